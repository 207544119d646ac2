"""Long passages are embedded in overlapping windows that cover every word of the answer."""

from __future__ import annotations

import itertools
import re

import pytest

from index.chunking import passage_context, passage_windows
from ingest import Passage
from tests.fakes import HashEmbedder

WORD = re.compile(r"\w+")


def passage(answer: str, question: str = "", **metadata: str) -> Passage:
    return Passage("p1", "d1", "s.txt", question, answer, dict(metadata))


def test_short_passage_is_one_window_of_its_whole_text() -> None:
    windows = passage_windows(passage("A short answer.", "A question?"), HashEmbedder())
    assert [(w.start, w.end, w.text) for w in windows] == [(0, 15, "A question?\nA short answer.")]


@pytest.mark.parametrize("question", ["", "How do I stop overthinking at night?"])
def test_long_answer_windows_cover_everything_within_budget(question: str) -> None:
    embedder = HashEmbedder(max_tokens=48)
    answer = " ".join(f"word{i}" for i in range(500))
    windows = passage_windows(passage(answer, question, topic="sleep-improvement"), embedder)
    assert len(windows) > 10
    assert windows[0].start == 0 and windows[-1].end == len(answer)
    covered: set[str] = set()
    for prev, cur in itertools.pairwise(windows):
        assert cur.start < prev.end  # consecutive windows overlap
    for w in windows:
        assert len(WORD.findall(w.text)) <= embedder.max_tokens  # the model reads it all
        assert w.text.startswith("sleep improvement:")  # the context header leads each window
        assert w.text.endswith(answer[w.start : w.end])
        covered |= set(WORD.findall(answer[w.start : w.end]))
    assert covered == set(WORD.findall(answer))


def test_context_header() -> None:
    assert passage_context(passage("x", topic="family-conflict")) == "family conflict"
    assert passage_context(passage("x", title="Coping with grief")) == "Coping with grief"
    # A title that is the question itself adds nothing.
    assert passage_context(passage("x", "What is grief?", title="What is grief?")) == ""
    assert passage_context(passage("x")) == ""


def test_question_only_passage() -> None:
    windows = passage_windows(passage("", "Is it normal to cry in therapy?"), HashEmbedder())
    assert [(w.start, w.end, w.text) for w in windows] == [
        (0, 0, "Is it normal to cry in therapy?")
    ]
