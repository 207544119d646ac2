"""PDF leaflets as people have them (ingest/pdf.py): headings from fonts and the outline, page
furniture removed, lines joined into paragraphs, page numbers on every passage.

The files are generated with fpdf2 (tests/make_documents.py): real fonts and sizes, a URL and
a site name at the top of each page, "Page N of M" at the bottom."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest import Passage, page_label, read_file, read_sources
from tests import make_documents as make

FURNITURE = re.compile(r"example\.org|Example Health|Page \d+ of \d+", re.IGNORECASE)
HEADINGS = [heading for heading, _ in make.SECTIONS]


def read(tmp_path: Path, data: bytes, name: str = "leaflet.pdf") -> list[Passage]:
    _, passages = read_file(make.write(tmp_path / name, data))
    return passages


def test_a_printed_leaflet_splits_into_one_passage_per_section(tmp_path: Path) -> None:
    """The definition of done, without the model: bold headings with no question marks start
    the passages, and no passage holds a header, a footer or a page number."""
    file, passages = read_file(make.write(tmp_path / "leaflet.pdf", make.leaflet()))
    assert file.kind == "pdf" and file.title == make.TITLE
    assert [p.question for p in passages] == HEADINGS
    for passage, (_, text) in zip(passages, make.SECTIONS, strict=True):
        assert not FURNITURE.search(passage.question + passage.answer), passage.answer
        # The whole section, once per repetition, its wrapped lines joined into one paragraph.
        assert passage.answer.count(text) == 3 and "\n" not in passage.answer
        assert passage.metadata["title"] == make.TITLE and passage.metadata["kind"] == "pdf"


def test_every_passage_carries_the_pages_it_is_on(tmp_path: Path) -> None:
    passages = read(tmp_path, make.leaflet(repeat=6))
    pages = [p.pages for p in passages]
    assert all(pages) and pages[0][0] == 1
    assert any(len(p) > 1 for p in pages)  # a section flows over a page break...
    joined = next(p for p in passages if len(p.pages) > 1)
    assert "  " not in joined.answer and "\n" not in joined.answer  # ... and stays one paragraph
    flat = [n for p in pages for n in p]
    assert flat == sorted(flat)  # in reading order
    assert passages[0].to_dict()["pages"] == list(passages[0].pages)
    assert passages[0].metadata["pages"] == list(passages[0].pages)


def test_page_labels() -> None:
    assert page_label([3]) == "3"
    assert page_label([4, 3]) == "3-4"
    assert page_label([2, 5, 6, 7]) == "2, 5-7"
    assert page_label([]) == ""


def test_larger_font_headings_that_are_not_bold(tmp_path: Path) -> None:
    passages = read(tmp_path, make.leaflet(heading_style="", heading_size=15))
    assert [p.question for p in passages] == HEADINGS


def test_outline_entries_are_headings_and_its_single_top_entry_the_title(tmp_path: Path) -> None:
    """Headings in the body's own font are still found when the outline (bookmarks) names
    them; the outline's one top entry is the title even without a Title field."""
    data = make.leaflet(heading_style="", metadata_title=False, outline=True)
    file, passages = read_file(make.write(tmp_path / "outlined.pdf", data))
    assert file.title == make.TITLE
    assert [p.question for p in passages] == HEADINGS


def test_without_a_title_field_the_first_large_heading_is_the_title(tmp_path: Path) -> None:
    file, passages = read_file(make.write(tmp_path / "x.pdf", make.leaflet(metadata_title=False)))
    assert file.title == make.TITLE
    assert [p.question for p in passages] == HEADINGS


def test_hyphenated_words_are_joined_and_lists_stay_lines(tmp_path: Path) -> None:
    bullets = ["Breathe out slowly", "Name five things you can see", "Call a friend"]
    sections = [(make.SECTIONS[0][0], "When worry starts, try to recog-\nnize it early.")]
    passages = read(tmp_path, make.leaflet(sections, repeat=1, bullets=bullets))
    assert len(passages) == 1
    answer = passages[0].answer
    assert "recognize it early." in answer and "recog" not in answer.replace("recognize", "")
    assert answer.endswith("\n".join(f"- {b}" for b in bullets))


def test_a_list_after_its_lead_in_is_part_of_that_paragraph(tmp_path: Path) -> None:
    data = make.plain_pdf(
        [
            "What helps when you cannot sleep?",
            "",
            "A few things help:",
            "",
            "- Keep a regular bedtime",
            "",
            "- Avoid coffee late in the day",
        ],
    )
    passages = read(tmp_path, data)
    assert [p.question for p in passages] == ["What helps when you cannot sleep?"]
    assert passages[0].answer == (
        "A few things help:\n- Keep a regular bedtime\n- Avoid coffee late in the day"
    )


def test_question_lines_still_start_passages(tmp_path: Path) -> None:
    """A PDF with no heading fonts: the question-line rule of every other reader applies."""
    data = make.plain_pdf(
        [
            "How do I stop worrying at night?",
            "Write the worry down before bed, then put the paper away until morning.",
            "",
            "Why does my heart race?",
            "Adrenaline speeds it up; breathing out slowly brings it down again.",
        ]
    )
    passages = read(tmp_path, data)
    assert [p.question for p in passages] == [
        "How do I stop worrying at night?",
        "Why does my heart race?",
    ]
    assert passages[1].answer.startswith("Adrenaline") and passages[1].pages == (1,)


def test_bare_page_numbers_and_repeated_footers_are_dropped(tmp_path: Path) -> None:
    pages = [
        ["Worry is common.", "", "Most people feel it before exams."],
        ["Worry passes.", "", "It rises, peaks and falls within the hour."],
        ["Worry can be shared.", "", "Tell someone you trust what is on your mind."],
    ]
    for footer in ("{n}", "- {n} -", "Page {n}", "Example Health Service - {n}/3"):
        passages = read(tmp_path, make.plain_pdf(*pages, footer=footer))
        # No headings, no questions: a passage per paragraph, and nothing else.
        assert [p.answer for p in passages] == [line for p in pages for line in p if line]


def test_a_lone_url_line_at_the_top_is_dropped_even_on_one_page(tmp_path: Path) -> None:
    data = make.leaflet(make.SECTIONS[:1], repeat=1)
    passages = read(tmp_path, data)
    assert [p.question for p in passages] == HEADINGS[:1]
    assert "example.org" not in passages[0].answer


def test_headings_at_the_top_of_every_page_are_not_furniture(tmp_path: Path) -> None:
    """Numbered headings opening each page ("Session 1", "Session 2") repeat but for their
    digits, like a footer; they look like headings, so they stay."""
    sections = [(f"Session {i}", text) for i, (_, text) in enumerate(make.SECTIONS, start=1)]
    data = make.leaflet(sections, title=None, repeat=5, header=None)
    passages = read(tmp_path, data)
    assert [p.question for p in passages] == [heading for heading, _ in sections]


def test_a_line_repeated_in_the_body_is_not_furniture(tmp_path: Path) -> None:
    """Only the top and bottom of a page hold furniture: text that repeats on every page in
    the middle of it (the same advice under each section) stays."""
    passages = read(tmp_path, make.leaflet(bullets=["Call a friend"], repeat=1))
    assert "- Call a friend" in passages[0].answer


def test_pdfs_are_read_with_the_other_kinds(tmp_path: Path) -> None:
    make.write(tmp_path / "docs" / "leaflet.pdf", make.leaflet())
    (tmp_path / "docs" / "notes.md").write_text("# Notes\n\n## Why rest?\n\nIt helps.\n")
    result = read_sources([tmp_path / "docs"])
    assert not result.errors
    assert sorted(f.kind for f in result.files) == ["md", "pdf"]
    assert len(result.passages) == len(make.SECTIONS) + 1


@pytest.fixture(scope="module")
def leaflet_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real-model index of the leaflet beside the seed article (built once)."""
    from index import build_index, load_embedder
    from tests.conftest import SEED

    root = tmp_path_factory.mktemp("leaflet")
    make.write(root / "docs" / "leaflet.pdf", make.leaflet())
    (root / "docs" / SEED.name).write_bytes(SEED.read_bytes())
    build_index([root / "docs"], root / "ix", load_embedder())
    return root / "ix"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("I lie awake at night and cannot fall asleep, what should I do?", "Sleeping well"),
        ("Does skipping breakfast or drinking coffee make anxiety worse?", "Eating regularly"),
        ("Can exercise like walking help with worry?", "Moving your body"),
        ("Who can I talk to about my worries?", "Talking to someone"),
    ],
)
def test_a_question_about_a_section_finds_it_first(
    leaflet_index: Path, question: str, section: str
) -> None:
    """The definition of done, with the real model: a question about one section of the
    leaflet finds that section first, with its pages and without page furniture."""
    from search import Searcher

    hit = Searcher.open(leaflet_index).search(question, k=1, explain=False)[0]
    assert hit.passage.question == section and hit.passage.source.endswith("leaflet.pdf")
    assert hit.passage.pages and not FURNITURE.search(hit.passage.answer)


def test_lines_broken_on_purpose_stay_lines(tmp_path: Path) -> None:
    """List items whose bullets are drawn, not written (as browsers print them), are short
    lines: each stays a line; a short line ending a sentence ends its paragraph."""
    first = "A routine that starts an hour before bed makes sleep easier, weekends too."
    data = make.plain_pdf([first, "Keep a regular bedtime", "Avoid coffee after midday"])
    assert [p.answer for p in read(tmp_path, data)] == [
        first,
        "Keep a regular bedtime\nAvoid coffee after midday",
    ]


def test_a_browsers_print_stamp_is_dropped_even_on_one_page(tmp_path: Path) -> None:
    data = make.leaflet(make.SECTIONS[:1], repeat=1, header="12/2/26, 9:24 AM")
    passages = read(tmp_path, data)
    assert [p.question for p in passages] == HEADINGS[:1]
    assert "9:24" not in passages[0].answer and "Example" not in passages[0].answer
