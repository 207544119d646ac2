"""CSV and JSONL files: column detection, delimiters, quoting, ragged rows, ids, broken lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import IngestError, content_id, read_file, read_sources
from ingest.readers import read_file_report


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def pairs(path: Path, **cols: str) -> list[tuple[str, str]]:
    _, passages = read_file(path, **cols)
    return [(p.question, p.answer) for p in passages]


# -- column detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question_col", "answer_col"),
    [
        ("question", "answer"),
        ("Questions", "Answers"),
        ("questionTitle", "answerText"),
        ("QUESTIONTITLE", "ANSWERTEXT"),
        ("Title", "Text"),
        ("title", "body"),
    ],
)
def test_csv_columns_found_by_usual_names(
    tmp_path: Path, question_col: str, answer_col: str
) -> None:
    path = write(tmp_path / "qa.csv", f"topic,{question_col},{answer_col}\nsleep,Why?,Because.\n")
    _, passages = read_file(path)
    assert [(p.question, p.answer, p.metadata) for p in passages] == [
        ("Why?", "Because.", {"topic": "sleep"})
    ]


def test_csv_question_column_priority(tmp_path: Path) -> None:
    # "question" beats "title"; "answer" beats "text"; the losers become metadata.
    path = write(tmp_path / "qa.csv", "title,text,question,answer\nT,X,Q,A\n")
    _, passages = read_file(path)
    assert (passages[0].question, passages[0].answer) == ("Q", "A")
    assert passages[0].metadata == {"title": "T", "text": "X"}


def test_csv_without_question_column(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "answer,author\nRest helps.,Ann\n")
    _, passages = read_file(path)
    assert [(p.question, p.answer, p.metadata) for p in passages] == [
        ("", "Rest helps.", {"author": "Ann"})
    ]


def test_csv_explicit_columns_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", "Prompt,Reply,answer\nHow?,Slowly.,ignored\n")
    _, passages = read_file(path, question_col="prompt", answer_col="REPLY")
    assert [(p.question, p.answer, p.metadata) for p in passages] == [
        ("How?", "Slowly.", {"answer": "ignored"})
    ]


def test_csv_missing_answer_column_error_names_file_and_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.csv", "prompt,reply\na,b\n")
    with pytest.raises(IngestError) as info:
        read_file(path)
    message = info.value.one_line()
    assert str(path) in message
    assert "'prompt', 'reply'" in message
    assert "--answer-col" in message


def test_csv_missing_named_column_error(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", "question,answer\na,b\n")
    with pytest.raises(IngestError, match=r"qa\.csv: has no answer column named 'reply'.*'answer'"):
        read_file(path, answer_col="reply")
    with pytest.raises(IngestError, match=r"no question column named 'prompt'"):
        read_file(path, question_col="prompt")


# -- CSV dialects -----------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [
        ["question", "answer", "topic"],
        ["Is it ok, really?", "Yes, it is, mostly.", "a"],
        ["Why, then?", "Because, well, it is.", "b"],
    ]
    path = write(tmp_path / "qa.csv", "\n".join(delimiter.join(r) for r in rows) + "\n")
    _, passages = read_file(path)
    assert [(p.question, p.answer, p.metadata["topic"]) for p in passages] == [
        ("Is it ok, really?", "Yes, it is, mostly.", "a"),
        ("Why, then?", "Because, well, it is.", "b"),
    ]


def test_csv_quoted_newlines_bom_and_crlf(tmp_path: Path) -> None:
    text = 'question,answer\r\n"Two\r\nlines?","First para.\r\n\r\nSecond, ""quoted"" para."\r\n'
    path = write(tmp_path / "qa.csv", "\ufeff" + text)
    assert pairs(path) == [("Two\nlines?", 'First para.\n\nSecond, "quoted" para.')]


def test_csv_ragged_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", "question,answer,topic\nQ1?,A1,t1,EXTRA,MORE\nQ2?,A2\nQ3?\n")
    report = read_file_report(path)
    assert [(p.question, p.answer, p.metadata) for p in report.passages] == [
        ("Q1?", "A1", {"topic": "t1"}),
        ("Q2?", "A2", {"topic": ""}),
    ]
    # A short row gets "" for its missing cells: Q3? has no answer, so it is skipped and named.
    [warning] = report.warnings
    assert (warning.source, warning.line) == (path.as_posix(), 4)
    assert "'Q3?' has no answer; row skipped" in warning.message


def test_csv_blank_rows_are_skipped(tmp_path: Path) -> None:
    text = "\n\nquestion,answer,topic\n,,orphan\n\n  ,  ,\nQ?,A,t\n"
    assert pairs(write(tmp_path / "qa.csv", text)) == [("Q?", "A")]


def test_csv_id_column_is_the_passage_id(tmp_path: Path) -> None:
    text = "ID,question,answer\nfaq-1,Q?,A\n,Q2?,A2\n"
    _, passages = read_file(write(tmp_path / "qa.csv", text))
    assert [p.id for p in passages] == ["faq-1", content_id("Q2?", "A2")]
    assert all("ID" not in p.metadata and "id" not in p.metadata for p in passages)


def test_csv_text_is_normalized(tmp_path: Path) -> None:
    text = "question,answer\n  Is\u00a0it   fine? ,cafe\u0301\u200b  au lait\n"
    assert pairs(write(tmp_path / "qa.csv", text)) == [("Is it fine?", "café au lait")]


def test_csv_in_cp1252(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", "question;answer\nWhat’s “normal”?;Café talk\n", "cp1252")
    assert pairs(path) == [("What’s “normal”?", "Café talk")]


# -- JSONL ------------------------------------------------------------------------------------


def test_jsonl_ids_metadata_and_values(tmp_path: Path) -> None:
    rows = [
        {"id": "a1", "question": "Q1?", "answer": "A1", "topic": "t", "votes": 3, "ok": True},
        {"id": 7, "Question": "Q2?", "answer": "A2", "tags": ["x", "y"], "extra": None},
        {"question": "Q3?", "answer": "A3", "nested": {"k": 1}, "score": 0.5},
    ]
    path = write(tmp_path / "qa.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    _, passages = read_file(path)
    assert [p.id for p in passages] == ["a1", "7", content_id("Q3?", "A3")]
    assert [(p.question, p.answer) for p in passages] == [("Q1?", "A1"), ("", "A2"), ("Q3?", "A3")]
    assert passages[0].metadata == {"topic": "t", "votes": 3, "ok": True}
    assert passages[1].metadata == {"Question": "Q2?", "tags": '["x", "y"]'}
    assert passages[2].metadata == {"nested": '{"k": 1}', "score": 0.5}


def test_jsonl_list_answers_become_paragraphs(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.jsonl", '{"question": "Q?", "answers": ["One.", "Two."]}\n')
    assert pairs(path) == [("Q?", "One.\n\nTwo.")]


def test_jsonl_broken_lines_are_reported_and_the_rest_goes_in(tmp_path: Path) -> None:
    lines = [
        '{"question": "Q1?", "answer": "A1"}',
        '{"question": "Q2?", "answer": ',  # line 2: cut off
        "",
        '["not", "an", "object"]',  # line 4
        '{"question": "Q5?", "answer": "A5"}',
    ]
    path = write(tmp_path / "qa.jsonl", "\n".join(lines))
    result = read_sources([path])
    assert [(p.question, p.answer) for p in result.passages] == [("Q1?", "A1"), ("Q5?", "A5")]
    assert [e.line for e in result.errors] == [2, 4]
    assert all(e.source == str(path) for e in result.errors)
    assert f"{path}:2: is not valid JSON" in result.errors[0].one_line()
    assert "JSON array, not an object" in result.errors[1].one_line()
    assert result.files[0].n_passages == 2
    # read_file logs the broken lines and still returns the good rows.
    assert len(read_file(path)[1]) == 2


def test_jsonl_line_separator_inside_a_string_is_not_a_line_break(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.jsonl", '{"question": "Q?", "answer": "one\u2028two"}\n')
    assert pairs(path) == [("Q?", "one\ntwo")]


def test_csv_header_only_gives_no_passages_but_checks_columns(tmp_path: Path) -> None:
    assert pairs(write(tmp_path / "qa.csv", "question,answer\n")) == []
    with pytest.raises(IngestError, match="no answer column"):
        read_file(write(tmp_path / "bad.csv", "prompt,reply\n"))


def test_jsonl_without_answer_field(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.jsonl", '{"prompt": "Q?", "reply": "A"}\n')
    with pytest.raises(IngestError, match=r"qa\.jsonl: has no answer column.*'prompt', 'reply'"):
        read_file(path)


# -- broken tables --------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_jsonl_and_csv_with_windows_or_old_mac_line_ends(tmp_path: Path, end: str) -> None:
    rows = ['{"question": "Q1?", "answer": "A1"}', '{"question": "Q2?", "answer": "A2"}']
    assert pairs(write(tmp_path / "qa.jsonl", end.join(rows) + end)) == [
        ("Q1?", "A1"),
        ("Q2?", "A2"),
    ]
    # The header line ends at a lone CR too, so the delimiter is read from the header alone.
    csv_text = end.join(["question;answer", "Q1?;A1, yes", "Q2?;A2"]) + end
    assert pairs(write(tmp_path / "qa.csv", csv_text)) == [("Q1?", "A1, yes"), ("Q2?", "A2")]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests arrays or objects too deeply"),
        ('{"question": "Q?", "answer": "A", "n": 1' + "0" * 5000 + "}", "cannot be loaded"),
    ],
    ids=["deep nesting", "huge integer"],
)
def test_jsonl_line_python_cannot_load_is_reported_and_skipped(
    tmp_path: Path, bad_line: str, message: str
) -> None:
    lines = ['{"question": "Q1?", "answer": "A1"}', bad_line, '{"question": "Q3?", "answer": "A3"}']
    path = write(tmp_path / "qa.jsonl", "\n".join(lines))
    result = read_sources([path])
    assert [p.question for p in result.passages] == ["Q1?", "Q3?"]
    [error] = result.errors
    assert error.line == 2
    assert f"{path}:2: {message}" in error.one_line() and len(error.one_line()) < 300


def test_csv_quote_never_closed_is_reported_and_earlier_rows_kept(tmp_path: Path) -> None:
    text = 'question,answer\nQ1?,A1\n"Q2?,A2\nQ3?,A3\nQ4?,A4\n'
    path = write(tmp_path / "qa.csv", text)
    result = read_sources([path])
    assert [(p.question, p.answer) for p in result.passages] == [("Q1?", "A1")]
    [error] = result.errors
    assert error.line == 3
    assert f"{path}:3: a quote opened on this line is never closed, so lines 3-5" in (
        error.one_line()
    )


def test_csv_stray_quotes_inside_a_cell_are_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path / "qa.csv", 'question,answer\nQ1?,"A1 "quoted" x"\nQ2?,5" tall\n')
    result = read_sources([path])
    assert [(p.question, p.answer) for p in result.passages] == [
        ("Q1?", 'A1 quoted" x"'),
        ("Q2?", '5" tall'),
    ]
    assert result.errors == ()


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_quoted_newlines_with_other_delimiters(tmp_path: Path, delimiter: str) -> None:
    text = f'question{delimiter}answer\n"Two\nlines?"{delimiter}"One{delimiter}two\n\nthree."\n'
    cell = f"One{delimiter}two\n\nthree.".replace("\t", " ")  # a tab in text is a space
    assert pairs(write(tmp_path / "qa.csv", text)) == [("Two\nlines?", cell)]


def test_csv_ragged_rows_are_logged_with_the_first_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "qa.csv", "question,answer\nQ1?,A1\nQ2?,A2,extra\nQ3?,A3,x,y\n")
    assert len(pairs(path)) == 3
    assert f"{path}: 2 rows (the first on line 3) have more cells than the header's 2" in (
        caplog.text
    )


def test_csv_error_lists_a_few_of_many_columns(tmp_path: Path) -> None:
    header = ",".join(f"column{i}" for i in range(5000))
    with pytest.raises(IngestError) as info:
        read_file(write(tmp_path / "wide.csv", header + "\n" + "x," * 4999 + "x\n"))
    line = info.value.one_line()
    assert "'column0', 'column1'" in line and "and 4988 more" in line and len(line) < 800
