"""read_file and read_sources: files, folders, encodings, errors, duplicates, progress."""

from __future__ import annotations

import codecs
import hashlib
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

import ingest.readers
from ingest import (
    IngestError,
    SourceNotFound,
    UnsupportedFile,
    doc_id_for,
    read_file,
    read_sources,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "corpus"
SEED = DATA / "000_6fe00c9fba106d10.txt"
COUNSELCHAT = DATA / "counselchat_answers.csv"

QA = "Stress Notes\nWhat is stress?\nPressure on the mind.\nHow do I cope?\nRest and talk.\n"


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


# -- the acceptance documents -----------------------------------------------------------------


def test_seed_file_gives_seven_passages() -> None:
    file, passages = read_file(SEED)
    assert len(passages) == 7
    assert file.kind == "txt"
    assert file.n_passages == 7
    assert file.title.startswith("Why is it important for counselors")
    assert file.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert passages[3].question == "How do you build trust in a therapeutic relationship?"


def test_bundled_counselchat_csv() -> None:
    file, passages = read_file(COUNSELCHAT)
    assert len(passages) == 2009
    assert len({p.id for p in passages}) == 2009
    assert file.kind == "csv"
    assert file.n_passages == 2009
    first = passages[0]
    assert first.question == "Can I change my feeling of being worthless to everyone?"
    assert first.answer.startswith("If everyone thinks you're worthless")
    assert set(first.metadata) == {
        "questionID",
        "questionLink",
        "topic",
        "therapistInfo",
        "therapistURL",
        "upvotes",
        "views",
    }
    topics = Counter(p.metadata["topic"] for p in passages)
    assert topics["depression"] > 100
    assert topics["anxiety"] > 100


# -- sources, folders and progress ------------------------------------------------------------


def test_source_is_the_normalized_path_as_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "docs" / "qa.txt", QA)
    result = read_sources(["./docs/../docs//qa.txt"])
    assert [f.source for f in result.files] == ["docs/qa.txt"]
    assert {p.source for p in result.passages} == {"docs/qa.txt"}
    assert result.passages[0].doc_id == doc_id_for("docs/qa.txt")


def test_folder_recursion_sorted_hidden_and_unsupported_skipped(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root / "b.txt", "B notes\nWhat is b?\nBee.\n")
    write(root / "a.md", "# A\n## What is a?\nAy.\n")
    write(root / "sub" / "c.csv", "question,answer\nWhat is c?,See.\n")
    write(root / "sub" / "deeper" / "d.jsonl", '{"question": "What is d?", "answer": "Dee."}\n')
    write(root / "sub" / "e.HTML", "<h2>What is e?</h2><p>Ee.</p>")
    write(root / "image.png", b"\x89PNG\x00\x00")  # unsupported: silently skipped
    write(root / ".hidden.txt", "Hidden\nWhat is hidden?\nNo.\n")
    write(root / ".git" / "x.txt", "Git\nWhat is git?\nNo.\n")
    write(root / "sub" / "notes.odt", b"PK\x03\x04")
    calls: list[tuple[int, int]] = []
    result = read_sources([root], progress=lambda done, total: calls.append((done, total)))
    assert result.errors == ()
    rel = [f.source.removeprefix(root.as_posix() + "/") for f in result.files]
    assert rel == ["a.md", "b.txt", "sub/c.csv", "sub/e.HTML", "sub/deeper/d.jsonl"]
    assert [f.kind for f in result.files] == ["md", "txt", "csv", "html", "jsonl"]
    assert [p.question for p in result.passages] == [
        "What is a?",
        "What is b?",
        "What is c?",
        "What is e?",
        "What is d?",
    ]
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.txt", QA)
    result = read_sources([path, tmp_path, str(path)])
    assert len(result.files) == 1
    assert len(result.passages) == 2


def test_a_single_path_string_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.txt", QA)
    assert len(read_sources(str(path)).passages) == 2  # type: ignore[arg-type]


# -- duplicates -------------------------------------------------------------------------------


def test_exact_duplicates_across_files_record_both_sources(tmp_path: Path) -> None:
    one = write(tmp_path / "one.txt", QA)
    two = write(tmp_path / "two.csv", 'question,answer\nWhat is stress?,"Pressure on the  mind."\n')
    result = read_sources([one, two])
    assert len(result.passages) == 2
    first = result.passages[0]
    assert first.question == "What is stress?"
    assert first.source == one.as_posix()
    assert first.sources == (one.as_posix(), two.as_posix())
    assert result.passages[1].sources == (one.as_posix(),)
    assert [f.n_passages for f in result.files] == [2, 1]  # counted before merging


def test_duplicate_within_one_file_lists_its_source_once(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", "question,answer\nQ?,A\nQ?,A\n")
    result = read_sources([path])
    assert len(result.passages) == 1
    assert result.passages[0].sources == (path.as_posix(),)
    assert result.files[0].n_passages == 2


def test_given_id_reused_for_different_text_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", "id,question,answer\nx1,Q?,A\nx1,Other?,B\nx2,Q2?,A2\n")
    result = read_sources([path])
    assert [(p.id, p.question) for p in result.passages] == [("x1", "Q?"), ("x2", "Q2?")]
    assert [e.line for e in result.errors] == [3]
    assert "qa.csv:3: id 'x1' is already used by line 2" in result.errors[0].one_line()


def test_given_id_reused_across_files_is_reported(tmp_path: Path) -> None:
    one = write(tmp_path / "one.jsonl", '{"id": "x1", "question": "Q?", "answer": "A"}\n')
    two = write(tmp_path / "two.jsonl", '{"id": "x1", "question": "Q?", "answer": "B"}\n')
    result = read_sources([one, two])
    assert [(p.id, p.answer) for p in result.passages] == [("x1", "A")]
    assert len(result.errors) == 1
    assert result.errors[0].source == two.as_posix()
    assert f"id 'x1' is already used by a different passage (from {one.as_posix()})" in (
        result.errors[0].one_line()
    )


# -- errors never stop the batch --------------------------------------------------------------


def test_missing_path_is_an_error_and_the_rest_goes_in(tmp_path: Path) -> None:
    good = write(tmp_path / "qa.txt", QA)
    missing = tmp_path / "nope.txt"
    result = read_sources([missing, good, tmp_path / "no_folder"])
    assert len(result.passages) == 2
    assert [type(e) for e in result.errors] == [SourceNotFound, SourceNotFound]
    assert result.errors[0].source == missing.as_posix()
    assert "does not exist" in result.errors[0].one_line()
    with pytest.raises(SourceNotFound):
        read_file(missing)


def test_unsupported_file_named_directly(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.odt", b"PK\x03\x04")
    result = read_sources([path])
    assert result.passages == ()
    assert len(result.errors) == 1
    assert isinstance(result.errors[0], UnsupportedFile)
    assert ".txt" in result.errors[0].one_line()
    with pytest.raises(UnsupportedFile, match=r"notes\.odt: is not a supported file type"):
        read_file(path)


def test_folder_without_supported_files(tmp_path: Path) -> None:
    write(tmp_path / "empty" / "x.rtf", b"{\\rtf1")
    result = read_sources([tmp_path / "empty"])
    assert len(result.errors) == 1
    assert "no supported files" in result.errors[0].one_line()


@pytest.mark.parametrize("content", [b"", b"  \n\r\n\t  \n", b"\xef\xbb\xbf\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "empty.txt", content)
    with pytest.raises(IngestError, match=r"empty\.txt: is empty"):
        read_file(path)


def test_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path / "photo.txt", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    result = read_sources([path, write(tmp_path / "qa.txt", QA)])
    assert len(result.passages) == 2
    assert len(result.errors) == 1
    assert "photo.txt: looks binary" in result.errors[0].one_line()


def test_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest.readers, "MAX_FILE_BYTES", 20)
    path = write(tmp_path / "big.txt", QA)
    with pytest.raises(IngestError) as info:
        read_file(path)
    assert f"big.txt: is {len(QA)} bytes, over the 20 bytes limit" in info.value.one_line()


def test_html_with_nothing_but_furniture(tmp_path: Path) -> None:
    path = write(tmp_path / "nav.html", "<nav>Home</nav><script>x()</script>")
    with pytest.raises(IngestError, match="has no text"):
        read_file(path)


# -- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),  # BOM
        ("utf-16", b""),  # Python writes a BOM
        ("cp1252", b""),
    ],
)
def test_text_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = "Café Notes\r\nWhat’s “burnout”?\r\nExhaustion — naïve or not.\r\n"
    path = write(tmp_path / "qa.txt", prefix + text.encode(encoding))
    file, passages = read_file(path)
    assert file.title == "Café Notes"
    assert [(p.question, p.answer) for p in passages] == [
        ("What’s “burnout”?", "Exhaustion — naïve or not.")
    ]


def test_same_text_in_two_encodings_gives_the_same_ids(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", QA, "utf-8")
    b = write(tmp_path / "b.txt", QA.replace("\n", "\r\n"), "utf-16")
    result = read_sources([a, b])
    assert len(result.passages) == 2
    assert all(p.sources == (a.as_posix(), b.as_posix()) for p in result.passages)
    assert result.files[0].sha256 != result.files[1].sha256


def test_markdown_and_html_files(tmp_path: Path) -> None:
    md = write(tmp_path / "faq.markdown", "# Sleep FAQ\n\n## How much sleep?\nEight hours.\n")
    html = write(
        tmp_path / "faq.htm",
        "<html><head><title>Sleep</title></head><body><h2>Why nap?</h2><p>Rest.</body>",
    )
    result = read_sources([md, html])
    assert [(f.kind, f.title) for f in result.files] == [("md", "Sleep FAQ"), ("html", "Sleep")]
    assert [(p.question, p.answer, p.metadata) for p in result.passages] == [
        ("How much sleep?", "Eight hours.", {"title": "Sleep FAQ", "kind": "md"}),
        ("Why nap?", "Rest.", {"title": "Sleep", "kind": "html"}),
    ]


def test_seed_copied_into_a_folder_with_the_csv(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / SEED.name)
    write(tmp_path / "extra.csv", "question,answer\nWhat is psychotherapy resistance?,Other.\n")
    result = read_sources([tmp_path])
    assert len(result.passages) == 8
    assert result.errors == ()


# -- more bad documents -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        QA.encode("utf-16-le"),  # no byte-order mark
        QA.encode("utf-16-be"),
        codecs.BOM_UTF16_LE + QA.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + QA.encode("utf-16-be"),
        codecs.BOM_UTF8 + QA.encode(),
        QA.replace("Pressure", "Pression très forte").encode("latin-1"),
    ],
    ids=["utf-16-le", "utf-16-be", "utf-16-le-bom", "utf-16-be-bom", "utf-8-bom", "latin-1"],
)
def test_every_detectable_encoding_reads_the_same_passages(tmp_path: Path, encoded: bytes) -> None:
    file, passages = read_file(write(tmp_path / "qa.txt", encoded))
    assert file.title == "Stress Notes"
    assert [p.question for p in passages] == ["What is stress?", "How do I cope?"]
    assert passages[0].answer in ("Pressure on the mind.", "Pression très forte on the mind.")


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r", "\u2028"], ids=["LF", "CRLF", "CR", "LS"])
def test_line_ends_split_lines_alike(tmp_path: Path, end: str) -> None:
    _, passages = read_file(write(tmp_path / "qa.txt", QA.replace("\n", end)))
    assert [(p.question, p.answer) for p in passages] == [
        ("What is stress?", "Pressure on the mind."),
        ("How do I cope?", "Rest and talk."),
    ]


@pytest.mark.parametrize(
    ("name", "text", "paragraphs"),
    [
        (
            "q.txt",
            "What is stress?\nWhat is burnout?\nWhat is grief?\n",
            ["What is stress?\nWhat is burnout?\nWhat is grief?"],
        ),
        (
            "q.md",
            "# What is stress?\n\n## What is burnout?\n\n## What is grief?\n",
            ["What is stress?", "What is burnout?", "What is grief?"],
        ),
    ],
)
def test_a_document_of_questions_only_is_its_text_not_unanswered_questions(
    tmp_path: Path, name: str, text: str, paragraphs: list[str]
) -> None:
    # No question has anything under it: the questions are the document's text, as paragraphs
    # (one per paragraph of the file), and none is reported as unanswered.
    report = ingest.readers.read_file_report(write(tmp_path / name, text))
    assert [(p.question, p.answer) for p in report.passages] == [("", a) for a in paragraphs]
    assert report.warnings == ()
    assert report.file.n_passages == len(paragraphs)


def test_a_document_of_answers_only_is_paragraphs(tmp_path: Path) -> None:
    _, passages = read_file(write(tmp_path / "a.txt", "Rest helps.\nSo do walks.\n\nTalk too.\n"))
    assert [(p.question, p.answer) for p in passages] == [
        ("", "Rest helps.\nSo do walks."),
        ("", "Talk too."),
    ]


def test_a_pipe_with_a_text_name_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")  # opening it for reading would wait for a writer forever
    result = read_sources([tmp_path / "pipe.txt", write(tmp_path / "qa.txt", QA)])
    assert len(result.passages) == 2
    [error] = result.errors
    assert "pipe.txt: is not a regular file" in error.one_line()


def test_a_file_that_grew_past_the_limit_after_it_was_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "growing.txt", QA)
    monkeypatch.setattr(ingest.readers, "MAX_FILE_BYTES", 20)
    real_stat = os.stat

    def measured_small(target, *args, **kwargs):  # type: ignore[no-untyped-def]
        info = real_stat(target, *args, **kwargs)
        if Path(target) != path:
            return info
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))  # measured: 10 bytes

    monkeypatch.setattr(ingest.readers.os, "stat", measured_small)
    with pytest.raises(IngestError, match=r"growing\.txt: is 21 bytes, over the 20 bytes limit"):
        read_file(path)


def test_a_dangling_link_is_named_as_one(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(SourceNotFound, match=r"gone\.txt: is a link to a file that does not exist"):
        read_file(link)
