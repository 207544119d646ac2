"""Word documents (ingest/docx.py): heading styles and question lines start passages, lists and
tables stay as text, bad files get one line. The files are generated with python-docx."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import IngestError, Passage, read_file, read_sources
from tests import make_documents as make

SLEEP = "Keep the same bedtime every night and put screens away an hour before."
FOOD = "Eat breakfast and keep a snack with you; hunger feels a lot like anxiety."


def read(tmp_path: Path, data: bytes, name: str = "guide.docx") -> tuple[str, list[Passage]]:
    file, passages = read_file(make.write(tmp_path / name, data))
    assert file.kind == "docx"
    return file.title, passages


def test_title_and_heading_styles(tmp_path: Path) -> None:
    title, passages = read(
        tmp_path,
        make.word(
            [
                ("title", "Coping with worry"),
                ("text", "A short guide for students."),
                ("h1", "Sleeping well"),
                ("text", SLEEP),
                ("h2", "Eating regularly"),
                ("text", FOOD),
                ("h4", "A detail"),
                ("text", "Water helps too."),
                ("h3", "Moving your body"),
                ("text", "Walk for twenty minutes a day."),
            ]
        ),
    )
    assert title == "Coping with worry"
    assert [p.question for p in passages] == [
        "",
        "Sleeping well",
        "Eating regularly",
        "Moving your body",
    ]
    assert passages[0].answer == "A short guide for students."
    assert passages[1].answer == SLEEP
    # A Heading 4 is a line of its section, not a section of its own.
    assert passages[2].answer == f"{FOOD}\n\nA detail\n\nWater helps too."
    assert all(p.metadata["kind"] == "docx" and "pages" not in p.metadata for p in passages)
    assert all(p.pages == () and p.to_dict()["pages"] == [] for p in passages)


def test_question_lines_start_passages(tmp_path: Path) -> None:
    _, passages = read(
        tmp_path,
        make.word(
            [
                ("h1", "Sleep"),
                ("text", "How can I fall asleep faster?"),
                ("text", SLEEP),
                ("text", "Why do I wake up at 4 am?"),
                ("text", "Stress hormones peak early in the morning."),
            ]
        ),
    )
    assert [p.question for p in passages] == [
        "How can I fall asleep faster?",
        "Why do I wake up at 4 am?",
    ]


def test_lists_and_tables_are_kept_as_text(tmp_path: Path) -> None:
    _, passages = read(
        tmp_path,
        make.word(
            [
                ("h1", "What helps"),
                ("text", "Try these:"),
                ("bullet", "Breathe out slowly"),
                ("bullet", "Name five things you can see"),
                ("text", "Or in order:"),
                ("number", "Stop"),
                ("number", "Breathe"),
                ("h1", "Who to call"),
                ("table", "Service | Number\nSamaritans | 116 123\nNHS | 111"),
            ]
        ),
    )
    assert passages[0].answer == (
        "Try these:\n- Breathe out slowly\n- Name five things you can see\n\n"
        "Or in order:\n1. Stop\n2. Breathe"
    )
    assert passages[1].answer == "Service | Number\nSamaritans | 116 123\nNHS | 111"


def test_bold_paragraphs_are_headings_where_no_heading_style_is_used(tmp_path: Path) -> None:
    title, passages = read(
        tmp_path,
        make.word(
            [
                ("bold", "Sleeping well"),
                ("text", SLEEP),
                ("bold", "Eating regularly"),
                ("text", FOOD),
            ],
            core_title="Worry guide",
        ),
    )
    assert title == "Worry guide"
    assert [p.question for p in passages] == ["Sleeping well", "Eating regularly"]


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("archive.docx", make.zip_of({"photos/a.txt": b"hello"}), ["ZIP archive", "not a Word"]),
        ("cut.docx", make.word([("h1", "Sleep"), ("text", SLEEP)])[:900], ["damaged"]),
        ("notes.docx", b"Why rest?\nIt helps.\n", ["not a Word .docx"]),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, [".doc", "password"]),
        ("empty.docx", b"", ["empty"]),
        ("blank.docx", make.word([("blank", "")]), ["no text"]),
    ],
)
def test_bad_word_files_get_one_line(
    tmp_path: Path, name: str, data: bytes, words: list[str]
) -> None:
    path = make.write(tmp_path / name, data)
    with pytest.raises(IngestError) as err:
        read_file(path)
    line = err.value.one_line()
    assert line.startswith(f"{path.as_posix()}: ") and "\n" not in line
    assert all(word in line for word in words), line


def test_a_batch_with_bad_word_files_reads_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    make.write(folder / "good.docx", make.word([("h1", "Sleep"), ("text", SLEEP)]))
    make.write(folder / "zip.docx", make.zip_of({"a.txt": b"x"}))
    make.write(folder / "cut.docx", make.word([("text", SLEEP)])[:500])
    result = read_sources([folder])
    assert [p.question for p in result.passages] == ["Sleep"]
    assert sorted(e.source.rsplit("/", 1)[1] for e in result.errors) == ["cut.docx", "zip.docx"]


def test_the_upload_preview_reads_pdf_and_word(tmp_path: Path) -> None:
    from index.uploads import store_upload
    from ui.upload import preview_uploads

    class Upload:
        def __init__(self, name: str, data: bytes) -> None:
            self.name, self.data = name, data

        def getvalue(self) -> bytes:
            return self.data

    rows = preview_uploads(
        [
            Upload("Leaflet.pdf", make.leaflet()),
            Upload("Guide.docx", make.word([("h1", "Sleep"), ("text", SLEEP)])),
            Upload("Scan.pdf", make.scan_pdf()),
        ]
    )
    assert [(r["file"], r["passages"]) for r in rows[:2]] == [
        ("Leaflet.pdf", len(make.SECTIONS)),
        ("Guide.docx", 1),
    ]
    assert rows[0]["status"] == rows[1]["status"] == "ok"
    assert "Scan.pdf" in str(rows[2]["status"]) and "OCR" in str(rows[2]["status"])
    assert store_upload(tmp_path, "Leaflet.pdf", make.leaflet()).name == "Leaflet.pdf"
