"""Tables of contents and questions with nothing under them.

A table of contents is dropped whole, even when an entry comes more than once; its entries say
where the body's sections start (a plain "Introduction" too) and a question line it does not
list is answer text. A passage never has an empty answer: a question with nothing under it is
reported as a warning naming its file and line (a question-and-answer row likewise), except in
a document of questions only, whose questions are its text.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ingest.split as splitter
from cli import main
from index import open_index
from ingest import IngestError, Passage, parse_document, read_sources
from ingest.lines import has_inner_sentence
from ingest.readers import FileRead, read_file_report


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def pairs(passages: Sequence[Passage]) -> list[tuple[str, str]]:
    return [(p.question, p.answer) for p in passages]


def read(path: Path) -> tuple[list[tuple[str, str]], list[tuple[int | None, str]]]:
    """A file's (question, answer) pairs and its warnings as (line, message)."""
    report = read_file_report(path)
    for warning in report.warnings:
        assert isinstance(warning, IngestError) and warning.source == path.as_posix()
    return pairs(report.passages), [(w.line, w.message) for w in report.warnings]


def unanswered(path: Path, line: int, question: str) -> tuple[int, str]:
    """The warning, as (line, message), for a question with nothing under it."""
    message = f"the question {question!r} has nothing under it; it is not indexed"
    return line, f"{path.as_posix()}:{line}: {message}"


# -- contents lists whose entries repeat --------------------------------------------------------

LESS = "How can I be less stressed?"
BALANCE = "How do I relieve stress and find balance?"
REPEATED_SECTIONS = [
    (LESS, "Notice what your body does under pressure."),
    (LESS, "Something different works for each of us."),
    (BALANCE, "Start with sleep, food and friends."),
]

REPEATED_CONTENTS = {
    "header.txt": (
        "Stress FAQ\n"
        "Table of Contents\n"
        f"{LESS}\n{LESS}\n{BALANCE}\n"
        f"{LESS}\nNotice what your body does under pressure.\n"
        f"{LESS}\nSomething different works for each of us.\n"
        f"{BALANCE}\nStart with sleep, food and friends.\n"
    ),
    "blank_lines.txt": (
        "Stress FAQ\n\n"
        "Table of Contents\n\n"
        f"{LESS}\n\n{LESS}\n\n{BALANCE}\n\n\n"
        f"{LESS}\n\nNotice what your body does under pressure.\n\n"
        f"{LESS}\n\nSomething different works for each of us.\n\n"
        f"{BALANCE}\n\nStart with sleep, food and friends.\n"
    ),
    "numbered.txt": (
        "Stress FAQ\n"
        "Contents:\n"
        f"1. {LESS}\n2. {LESS}\n3. {BALANCE}\n\n"
        f"{LESS}\nNotice what your body does under pressure.\n"
        f"{LESS}\nSomething different works for each of us.\n"
        f"{BALANCE}\nStart with sleep, food and friends.\n"
    ),
    "title_is_first_question.txt": (  # as the bench articles
        f"{LESS}\n"
        "Table of Contents\n"
        f"{LESS}\n{LESS}\n{BALANCE}\n"
        f"{LESS}\nNotice what your body does under pressure.\n"
        f"{LESS}\nSomething different works for each of us.\n"
        f"{BALANCE}\nStart with sleep, food and friends.\n"
    ),
    "links.md": (
        "# Stress FAQ\n\n"
        "## Table of Contents\n\n"
        f"- [{LESS}](#less)\n- [{LESS}](#less-1)\n- [{BALANCE}](#balance)\n\n"
        f"## {LESS}\n\nNotice what your body does under pressure.\n\n"
        f"## {LESS}\n\nSomething different works for each of us.\n\n"
        f"## {BALANCE}\n\nStart with sleep, food and friends.\n"
    ),
    "no_blank_lines.md": (
        "# Stress FAQ\n"
        "## Table of Contents\n"
        f"- [{LESS}](#less)\n- [{LESS}](#less-1)\n- [{BALANCE}](#balance)\n"
        f"## {LESS}\nNotice what your body does under pressure.\n"
        f"## {LESS}\nSomething different works for each of us.\n"
        f"## {BALANCE}\nStart with sleep, food and friends.\n"
    ),
    "plain_lines.md": (
        "# Stress FAQ\n\n"
        "Table of Contents\n"
        f"- {LESS}\n- {LESS}\n- {BALANCE}\n\n"
        f"{LESS}\nNotice what your body does under pressure.\n"
        f"{LESS}\nSomething different works for each of us.\n"
        f"{BALANCE}\nStart with sleep, food and friends.\n"
    ),
}


@pytest.mark.parametrize("name", REPEATED_CONTENTS)
def test_contents_with_repeated_entries_are_dropped_whole(tmp_path: Path, name: str) -> None:
    # Before: the list was cut at its first repeated entry and the rest of it became
    # passages with empty answers.
    got, warnings = read(write(tmp_path / name, REPEATED_CONTENTS[name]))
    assert (got, warnings) == (REPEATED_SECTIONS, [])


# -- the bench articles' layout -----------------------------------------------------------------

# As in the bench's articles: one therapist answer a line; some end with "?" and are short
# enough to look like questions, with or without a sentence before the question.
BENCH_SECTIONS = [
    (
        LESS,
        [
            "In case you feel some relief to know you're feeling the tone of our times, we all "
            "live with more pressure than our parents did, and it shows up in the body first.",
            "Part of handling stress is making sure that your perception of it is accurate. "
            "Is the pressure coming from outside, or from what you expect of yourself?",
            "Can you set aside a couple of hours a week for yourself?",
        ],
    ),
    (BALANCE, ["Are these things likely to change or not?", "A good start is sleep and food."]),
    (LESS, ["Learn how to meditate. I recommend a Mindful Based Stress Reduction program."]),
    (
        "Why do I feel anxious all the time?",
        [
            "I just want to understand before I answer. Who exactly is asking more of you?",
            "What would it mean to you to rest?",
            "Anxiety is often a signal worth listening to.",
        ],
    ),
]


def bench_article(
    sections: list[tuple[str, list[str]]], every_section_listed: bool, title_mark: str = ""
) -> str:
    """Title line (the first question), "Table of Contents", the questions, then each question
    followed by its answers, one a line: the layout of the bench's articles."""
    listed = [q for q, _ in sections]
    if not every_section_listed:
        listed = list(dict.fromkeys(listed))
    body = [line for q, answers in sections for line in (q, *answers)]
    title = title_mark + sections[0][0]
    return "\n".join([title, "Table of Contents", *listed, *body]) + "\n"


@pytest.mark.parametrize("every_section_listed", [True, False])
@pytest.mark.parametrize(("suffix", "title_mark"), [(".txt", ""), (".md", "# ")])
def test_bench_article_gives_exactly_its_listed_questions_with_all_their_answers(
    tmp_path: Path, suffix: str, title_mark: str, every_section_listed: bool
) -> None:
    # The bench's layout exactly (in Markdown, the title line is a "# " heading).
    text = bench_article(BENCH_SECTIONS, every_section_listed, title_mark)
    got, warnings = read(write(tmp_path / f"anxiety-01{suffix}", text))
    assert got == [(q, "\n".join(answers)) for q, answers in BENCH_SECTIONS]
    assert warnings == []
    answer_lines = {line for _, answers in BENCH_SECTIONS for line in answers}
    assert not answer_lines & {q for q, _ in got}  # before: answer lines ending "?" were questions


def test_an_answer_line_ending_with_a_question_mark_does_not_start_a_passage() -> None:
    text = (
        "Stress FAQ\nContents\nWhat is stress?\nWhat helps?\n\n"
        "What is stress?\nPressure on the mind.\nCan you set aside an hour for yourself?\n"
        "What helps?\nRest.\n"
    )
    passages, left_out = splitter.split_document_report(parse_document("faq.txt", text))
    left_out = [u.question for u in left_out]
    assert pairs(passages) == [
        ("What is stress?", "Pressure on the mind.\nCan you set aside an hour for yourself?"),
        ("What helps?", "Rest."),
    ]
    assert left_out == []


# -- plain-text contents entries ----------------------------------------------------------------

PLAIN_CONTENTS = {
    "handbook.txt": (
        "Handbook\n"
        "Contents\n"
        "Introduction\nCoping strategies\nWhen should I seek help?\n\n"
        "Introduction\nThis handbook is short.\n"
        "Coping strategies\nRest, talk and walk.\nSummary\nCan you rest today?\n"
        "When should I seek help?\nWhen it lasts for weeks.\n"
    ),
    "handbook.md": (
        "# Handbook\n\n"
        "## Contents\n\n"
        "- Introduction\n- Coping strategies\n- When should I seek help?\n\n"
        "Introduction\nThis handbook is short.\n\n"
        "Coping strategies\nRest, talk and walk.\nSummary\nCan you rest today?\n\n"
        "When should I seek help?\nWhen it lasts for weeks.\n"
    ),
}


@pytest.mark.parametrize("name", PLAIN_CONTENTS)
def test_a_plain_contents_entry_makes_its_body_line_a_section(tmp_path: Path, name: str) -> None:
    # "Summary" and "Can you rest today?" are listed nowhere: they are answer text.
    assert read(write(tmp_path / name, PLAIN_CONTENTS[name])) == (
        [
            ("Introduction", "This handbook is short."),
            ("Coping strategies", "Rest, talk and walk.\nSummary\nCan you rest today?"),
            ("When should I seek help?", "When it lasts for weeks."),
        ],
        [],
    )


def test_without_contents_a_plain_line_is_text() -> None:
    text = "Handbook\nIntroduction\nThis handbook is short.\nWhat is burnout?\nExhaustion."
    passages, left_out = splitter.split_document_report(parse_document("h.txt", text))
    left_out = [u.question for u in left_out]
    assert pairs(passages) == [
        ("", "Introduction\nThis handbook is short."),
        ("What is burnout?", "Exhaustion."),
    ]
    assert left_out == []


# -- a question with nothing under it -----------------------------------------------------------

STRESS = ("What is stress?", "Pressure.")
HELPS = ("What helps?", "Rest.")
UNANSWERED = {
    # name: (text, the passages, the line of the unanswered question)
    "between.txt": (
        "Stress Notes\nWhat is stress?\nPressure.\n\nIs this normal?\n\nWhat helps?\nRest.\n",
        [STRESS, HELPS],
        5,
    ),
    "last.txt": ("Stress Notes\nWhat is stress?\nPressure.\nIs this normal?\n", [STRESS], 4),
    "crlf.txt": (
        "Notes\r\nWhat is stress?\r\nPressure.\r\nIs this normal?\r\nWhat helps?\r\nRest.\r\n",
        [STRESS, HELPS],
        4,
    ),
    "headings.md": (
        "# Stress Notes\n\n## What is stress?\nPressure.\n\n**Is this normal?**\n\n"
        "## What helps?\nRest.\n",
        [STRESS, HELPS],
        6,
    ),
    "page.html": (
        "<html><head><title>Stress Notes</title></head><body>\n"
        "<h2>What is stress?</h2>\n<p>Pressure.</p>\n"
        "<h2>Is this normal?</h2>\n"
        "<h2>What helps?</h2>\n<p>Rest.</p>\n</body></html>\n",
        [STRESS, HELPS],
        4,
    ),
}


@pytest.mark.parametrize("name", UNANSWERED)
def test_a_question_with_nothing_under_it_is_a_warning_at_its_line(
    tmp_path: Path, name: str
) -> None:
    # Before: it was a passage with an empty answer, and nothing was reported.
    text, expected, line = UNANSWERED[name]
    path = write(tmp_path / name, text)
    assert read(path) == (expected, [unanswered(path, line, "Is this normal?")])


def test_a_question_with_nothing_under_it_after_contents_is_a_warning(tmp_path: Path) -> None:
    text = (
        "FAQ\nContents\nWhat is stress?\nWhat helps?\nHow long does it last?\n\n"
        "What is stress?\nPressure.\nWhat helps?\nHow long does it last?\nWeeks.\n"
    )
    path = write(tmp_path / "faq.txt", text)
    got, warnings = read(path)
    assert got == [STRESS, ("How long does it last?", "Weeks.")]
    # Its line: see test_the_warning_names_the_line_of_the_unanswered_question_itself.
    assert [message.split(": ", 1)[1] for _, message in warnings] == [
        "the question 'What helps?' has nothing under it; it is not indexed"
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "FAQ\nContents\nWhat is stress?\nIs this normal?\nWhat helps?\n\n"
            "What is stress?\nPressure.\nIs this normal?\nWhat helps?\nRest.\n",
            9,
        ),
        ("Notes\nIs this normal?\nOften.\nWhat helps?\nRest.\nIs this normal?\n", 6),
    ],
    ids=["listed in the contents", "asked before"],
)
def test_the_warning_names_the_line_of_the_unanswered_question_itself(
    tmp_path: Path, text: str, line: int
) -> None:
    path = write(tmp_path / "faq.txt", text)
    _, warnings = read(path)
    assert warnings == [unanswered(path, line, "Is this normal?")]


@pytest.mark.parametrize(
    ("text", "expected", "warned"),
    [
        (  # the first section's only answer is a short question (its answer was once lost)
            "Stress FAQ\nTable of Contents\nWhat is stress?\nWhat helps?\n"
            "What is stress?\nCan you name what stresses you?\nWhat helps?\nRest.\n",
            [("What is stress?", "Can you name what stresses you?"), ("What helps?", "Rest.")],
            [],
        ),
        (  # the first question of the body has nothing under it (once unreported)
            "FAQ\nContents\nWhat is stress?\nWhat helps?\n\n"
            "What is stress?\n\nWhat helps?\nRest.\n",
            [("What helps?", "Rest.")],
            [(6, "What is stress?")],
        ),
    ],
    ids=["answer lost", "unanswered not reported"],
)
def test_the_body_after_the_contents_is_not_taken_for_contents(
    tmp_path: Path,
    text: str,
    expected: list[tuple[str, str]],
    warned: list[tuple[int, str]],
) -> None:
    path = write(tmp_path / "faq.txt", text)
    assert read(path) == (expected, [unanswered(path, line, q) for line, q in warned])


def test_read_sources_reports_unanswered_questions_and_reads_the_rest(tmp_path: Path) -> None:
    text, _, line = UNANSWERED["between.txt"]
    notes = write(tmp_path / "docs" / "notes.txt", text)
    write(tmp_path / "docs" / "qa.csv", "question,answer\nWhat is grief?,A response to loss.\n")
    result = read_sources([tmp_path / "docs"])
    assert pairs(result.passages) == [STRESS, HELPS, ("What is grief?", "A response to loss.")]
    [error] = result.errors
    assert (error.source, error.line) == (notes.as_posix(), line)
    assert error.one_line().startswith(f"{notes.as_posix()}:{line}: the question 'Is this normal?'")
    assert error.hint
    assert [f.n_passages for f in result.files] == [2, 1]


def test_cli_build_warns_once_per_unanswered_question_and_indexes_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, _, line = UNANSWERED["between.txt"]
    notes = write(tmp_path / "docs" / "notes.txt", text)
    write(tmp_path / "docs" / "qa.csv", "question,answer\nWhat is grief?,A response to loss.\n")
    ix = tmp_path / "ix"
    code = main(["build", str(tmp_path / "docs"), "--index", str(ix), "--model", "hash-test"])
    out, err = capsys.readouterr()
    assert code == 3
    warnings = [x for x in err.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: {notes.as_posix()}:{line}: the question ")
    assert "'Is this normal?'" in warnings[0]
    assert "3 passages" in out
    version = open_index(ix)
    try:
        indexed = sorted((p.question, p.answer) for _, p in version.passages.all_passages())
    finally:
        version.close()
    assert indexed == sorted([STRESS, HELPS, ("What is grief?", "A response to loss.")])


# -- a document of questions only ---------------------------------------------------------------

QUESTIONS_ONLY = {
    "titled.txt": (
        "Questions people ask\nWhat is stress?\nWhat is burnout?\n\nWhat is grief?\n",
        ["What is stress?\nWhat is burnout?", "What is grief?"],
    ),
    "list.md": (
        "# Questions people ask\n\n- What is stress?\n- What is burnout?\n",
        ["What is stress?\nWhat is burnout?"],  # the questions, without their list markers
    ),
    "list.html": (
        "<title>Questions people ask</title><h2>What is stress?</h2><h2>What is burnout?</h2>",
        ["What is stress?", "What is burnout?"],
    ),
}


@pytest.mark.parametrize("name", QUESTIONS_ONLY)
def test_a_document_of_questions_only_is_paragraphs_without_a_warning(
    tmp_path: Path, name: str
) -> None:
    text, paragraphs = QUESTIONS_ONLY[name]
    path = write(tmp_path / name, text)
    assert read(path) == ([("", p) for p in paragraphs], [])
    result = read_sources([path])
    assert pairs(result.passages) == [("", p) for p in paragraphs]
    assert result.errors == ()


# -- rows with a question and no answer ---------------------------------------------------------


def test_csv_and_jsonl_rows_without_an_answer_are_skipped_and_named(tmp_path: Path) -> None:
    rows_csv = write(
        tmp_path / "t" / "rows.csv",
        'question,answer\nWhat is stress?,Pressure.\nIs this normal?,\n"Why, though?","  "\n'
        ",An answer with no question.\n,\nWhat helps?\nWhat else?,Rest.\n",
    )
    rows_jsonl = write(
        tmp_path / "t" / "rows.jsonl",
        "\n".join(
            json.dumps(row)
            for row in [
                {"question": "What is grief?", "answer": "A response to loss."},
                {"question": "Is it normal?", "answer": ""},
                {"question": "Does it pass?", "answer": None},
                {"question": "Will it end?"},
                {"question": "Who can help?", "answer": [" ", ""]},
                {"question": "", "answer": ""},
                {"question": "How long?", "answer": "It varies."},
            ]
        )
        + "\n",
    )
    assert read(rows_csv) == (
        [
            ("What is stress?", "Pressure."),
            ("", "An answer with no question."),
            ("What else?", "Rest."),
        ],
        [
            (line, f"{rows_csv.as_posix()}:{line}: the question {q!r} has no answer; row skipped")
            for line, q in [(3, "Is this normal?"), (4, "Why, though?"), (7, "What helps?")]
        ],
    )
    skipped = [
        (2, "Is it normal?"),
        (3, "Does it pass?"),
        (4, "Will it end?"),
        (5, "Who can help?"),
    ]
    assert read(rows_jsonl) == (
        [("What is grief?", "A response to loss."), ("How long?", "It varies.")],
        [
            (line, f"{rows_jsonl.as_posix()}:{line}: the question {q!r} has no answer; row skipped")
            for line, q in skipped
        ],
    )
    result = read_sources([tmp_path / "t"])
    assert [(e.source, e.line) for e in result.errors] == [
        *((rows_csv.as_posix(), n) for n in (3, 4, 7)),
        *((rows_jsonl.as_posix(), n) for n, _ in skipped),
    ]
    assert len(result.passages) == 5 and all(p.answer.strip() for p in result.passages)


# -- property: no reader yields an empty answer, and nothing is lost silently -------------------

POOL = [
    "What is stress?",
    "How can I be less stressed?",
    "Is therapy confidential?",
    "Why can't I sleep at night?",
    "Should I talk to my family?",
]


@dataclass(frozen=True)
class AnswerLine:
    text: str
    is_question: bool  # a whole line the splitter takes for a question when nothing says not


@dataclass(frozen=True)
class Article:
    kind: str
    file: str  # the file's text
    sections: tuple[tuple[str, tuple[AnswerLine, ...]], ...]
    contents: bool


def _answer_line(kind: int, n: int, bullet: bool) -> AnswerLine:
    if kind == 0:
        return AnswerLine(("- " if bullet else "") + f"Plain answer {n} for the reader.", False)
    if kind == 1:
        return AnswerLine(f"Can you try step {n} today?", True)
    if kind == 2:
        return AnswerLine(f"I want to understand first {n}. Who is asking more of you?", True)
    return AnswerLine(
        "Have you noticed " + "that the pressure builds up slowly " * 7 + f"{n}?", False
    )


@st.composite
def articles(draw: st.DrawFn) -> Article:
    """A document of sections (questions from a small pool, so some repeat) with 0 to 3
    answer lines each, some ending with "?", in .txt, .md or .html, with or without a title,
    a table of contents and blank lines. The first section's first answer line is plain text:
    see test_the_body_after_the_contents_is_not_taken_for_contents for why."""
    kind = draw(st.sampled_from(["txt", "md", "html"]))
    counter = iter(range(1000))
    sections = []
    for i in range(draw(st.integers(1, 5))):
        question = draw(st.sampled_from(POOL))
        kinds = draw(st.lists(st.integers(0, 3), min_size=1 if i == 0 else 0, max_size=3))
        if i == 0:
            kinds[0] = 0
        answers = tuple(
            _answer_line(k, next(counter), kind != "html" and draw(st.booleans())) for k in kinds
        )
        sections.append((question, answers))
    contents = draw(st.booleans())
    title = draw(st.sampled_from(["plain", "question", "none"]))
    every_section_listed = draw(st.booleans())
    entry_style = draw(st.sampled_from(["plain", "numbered", "bullet", "link", "dots"]))
    header = draw(st.sampled_from(["Table of Contents", "Contents", "Contents:"]))
    heading_questions = kind != "txt" and draw(st.booleans())

    listed = [q for q, _ in sections]
    if not every_section_listed:
        listed = list(dict.fromkeys(listed))
    lines: list[str] = []
    first_question = sections[0][0]
    if kind == "html":
        if title != "none":
            lines.append(f"<title>{'Coping Guide' if title == 'plain' else first_question}</title>")
        if contents:
            lines.append(f"<h2>{header}</h2>" if heading_questions else f"<p>{header}</p>")
            lines += ["<ul>", *(f"<li>{q}</li>" for q in listed), "</ul>"]
        for question, answers in sections:
            lines.append(f"<h2>{question}</h2>" if heading_questions else f"<p>{question}</p>")
            lines += [f"<p>{a.text}</p>" for a in answers]
        return Article(kind, "\n".join(lines) + "\n", tuple(sections), contents)

    def blank() -> None:
        if draw(st.booleans()):
            lines.append("")

    heading = "## " if heading_questions else ""
    if title == "plain":
        lines.append("# Coping Guide" if kind == "md" else "Coping Guide")
        blank()
    elif title == "question" and contents:  # as the bench articles: the title is the question
        lines.append(f"# {first_question}" if kind == "md" else first_question)
        blank()
    if contents:
        lines.append(f"{heading}{header}")
        blank()
        for n, q in enumerate(listed, start=1):
            lines.append(
                {
                    "plain": q,
                    "numbered": f"{n}. {q}",
                    "bullet": f"- {q}",
                    "link": f"- [{q}](#section-{n})",
                    "dots": f"{q} ........ {n + 2}",
                }[entry_style]
            )
            blank()
    for question, answers in sections:
        lines.append(f"{heading}{question}")
        blank()
        for answer in answers:
            lines.append(answer.text)
            blank()
    return Article(kind, "\n".join(lines) + "\n", tuple(sections), contents)


def expected_sections(article: Article) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The passages as (question, answer lines) and the questions left unanswered, in order.

    A section question starts a passage; an answer line that reads as a question starts one
    too, unless a table of contents (which lists only the section questions) says otherwise, or
    it asks back in several sentences right under a question ("I see. Why?").
    """
    starts: list[tuple[str, list[str]]] = []
    for question, answers in article.sections:
        starts.append((question, []))
        for answer in answers:
            asks_back = not starts[-1][1] and has_inner_sentence(answer.text)
            if answer.is_question and not article.contents and not asks_back:
                starts.append((answer.text, []))
            else:
                starts[-1][1].append(answer.text)
    passages = [(q, lines) for q, lines in starts if lines]
    return passages, [q for q, lines in starts if not lines]


# A row's cells: "" empty, " " blank, None (a missing key or null in JSON), "text" some text.
CELLS = st.sampled_from(["", " ", None, "text"])


def _rows(cells: list[tuple[str | None, str | None]], tag: str) -> list[tuple[str | None, ...]]:
    """Rows of the cells, each text unique (a comma and quotes test the CSV quoting)."""
    return [
        (
            f'{tag} question {n}, "quoted"?' if q == "text" else q,
            f"{tag} answer {n}." if a == "text" else a,
        )
        for n, (q, a) in enumerate(cells)
    ]


def _csv(rows: list[tuple[str | None, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "answer"])
    writer.writerows([(q or "", a or "") for q, a in rows])
    return out.getvalue()


def _jsonl(rows: list[tuple[str | None, ...]]) -> str:
    """A None question is a missing key; a None answer is null."""
    lines = []
    for q, a in rows:
        row = {"answer": a} if q is None else {"question": q, "answer": a}
        lines.append(json.dumps(row))
    return "\n".join(lines) + "\n"


def _check_rows(report: FileRead, rows: list[tuple[str | None, ...]]) -> None:
    """The rows with an answer are the passages, in order; a row with a question and no answer
    is a warning at its line (the header is line 1 of a CSV: there the rows start on line 2);
    a row with neither is nothing to read."""
    first_line = 2 if report.file.kind == "csv" else 1
    assert pairs(report.passages) == [((q or "").strip(), a) for q, a in rows if a and a.strip()]
    skipped = [
        first_line + i for i, (q, a) in enumerate(rows) if q and q.strip() and not (a or "").strip()
    ]
    assert [w.line for w in report.warnings] == skipped
    assert all("has no answer; row skipped" in w.message for w in report.warnings)


@given(articles(), st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=8))
def test_no_reader_yields_an_empty_answer_or_loses_anything_silently(
    article: Article, cells: list[tuple[str | None, str | None]]
) -> None:
    # A JSONL file names its columns by its keys: one row always has both.
    cells = [*cells, ("text", "text")]
    csv_rows, jsonl_rows = _rows(cells, "CSV"), _rows(cells, "JSONL")
    with tempfile.TemporaryDirectory(prefix="contents-") as tmp:
        folder = Path(tmp)
        doc = write(folder / f"article.{article.kind}", article.file)
        reports = [
            read_file_report(doc),
            read_file_report(write(folder / "rows.csv", _csv(csv_rows))),
            read_file_report(write(folder / "rows.jsonl", _jsonl(jsonl_rows))),
        ]
        result = read_sources([folder])

    assert all(p.answer.strip() for p in result.passages)
    # Nothing lost: every file's passages and warnings, in file order (no two are alike).
    assert pairs(result.passages) == [pair for r in reports for pair in pairs(r.passages)]
    assert [e.one_line() for e in result.errors] == [
        w.one_line() for r in reports for w in r.warnings
    ]
    _check_rows(reports[1], csv_rows)
    _check_rows(reports[2], jsonl_rows)

    # The document: every section with its answer lines, in order; a question with nothing
    # under it is one warning, in order, at a line holding it (the very line when its words
    # are on no other line of the file).
    report = reports[0]
    passages, left_out = expected_sections(article)
    got = [(p.question, [line for line in p.answer.split("\n") if line]) for p in report.passages]
    assert got == passages
    file_lines = article.file.split("\n")
    assert len(report.warnings) == len(left_out)
    at = 0
    for warning, question in zip(report.warnings, left_out, strict=True):
        assert warning.source == doc.as_posix()
        assert f"the question {question!r} has nothing under it" in warning.message
        assert warning.line is not None and warning.line > at
        assert question in file_lines[warning.line - 1]
        holding = [n for n, text in enumerate(file_lines, start=1) if question in text]
        if len(holding) == 1:
            assert warning.line == holding[0]
        at = warning.line


def test_a_question_asked_back_under_a_question_is_its_answer(tmp_path: Path) -> None:
    # With no contents list to say where sections start, a line of several sentences ending in
    # "?" right under a question is a therapist asking back, not a new (unanswered) section.
    path = write(
        tmp_path / "notes.txt",
        "Stress Notes\nWhat is stress?\nI want to understand first. Who is stressing you?\n"
        "What helps?\nRest.\n",
    )
    assert read(path) == (
        [
            ("What is stress?", "I want to understand first. Who is stressing you?"),
            ("What helps?", "Rest."),
        ],
        [],
    )
