"""The crisis notice: which queries get it, with the real model, and the query-vector cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import HashEmbedder, load_embedder
from search import Searcher
from search.safety import CrisisCheck, crisis_by_pattern

PHRASINGS = Path(__file__).parent / "data" / "crisis_phrasings.txt"


def _phrasings() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in PHRASINGS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif line and not line.startswith("#"):
            sections.setdefault(current, []).append(line)
    return sections


def test_patterns_catch_common_wordings_and_leave_idioms() -> None:
    for q in ("I want to KILL MYSELF", "thinking about   suicide", "I don’t want to live anymore"):
        assert crisis_by_pattern(q), q
    for q in ("this job is killing me", "I'm dying to know if therapy works", "end a relationship"):
        assert not crisis_by_pattern(q), q


def test_without_a_calibrated_model_only_patterns_count() -> None:
    check = CrisisCheck(HashEmbedder())
    assert check("I have been cutting myself")
    # The fake model has no threshold: a paraphrase no pattern lists is not flagged by it.
    assert not check("everyone would be better off if I were dead")
    assert not check("   ")


@pytest.mark.integration
def test_every_listed_crisis_phrasing_gets_the_notice_and_no_ordinary_question() -> None:
    check = CrisisCheck(load_embedder())
    lists = _phrasings()
    assert len(lists["crisis"]) >= 40 and len(lists["ordinary"]) >= 30
    missed = [q for q in lists["crisis"] if not check(q)]
    flagged = [q for q in lists["ordinary"] if check(q)]
    assert missed == [] and flagged == []
    # Some are caught only by meaning, so the semantic half is exercised too.
    assert any(not crisis_by_pattern(q) for q in lists["crisis"])


class _Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts, **kw) -> np.ndarray:  # type: ignore[override]
        self.texts += list(texts)
        return super().encode(texts, **kw)


def test_repeated_queries_reuse_their_embedding(hash_index: Path) -> None:
    embedder = _Counting()
    searcher = Searcher(Searcher.open(hash_index).version, embedder)
    q = "how do I trust my therapist"
    first = searcher.search(q, k=3, explain=False)  # explanations embed sentences: not here
    again = searcher.search(q, k=3, filters={"topic": ["x"]}, explain=False)
    same = searcher.search(q, k=3, explain=False)
    assert embedder.texts == ["how do I trust my therapist"]  # embedded once for all three
    assert [h.passage.id for h in first] == [h.passage.id for h in same] and again == []
    searcher.search_many(["a new question", q], k=1, explain=False)
    assert embedder.texts[1:] == ["a new question"]


def test_evaluation_does_not_reuse_query_vectors_across_modes(hash_index: Path) -> None:
    from search.evaluate import Query, evaluate

    embedder = _Counting()
    searcher = Searcher(Searcher.open(hash_index).version, embedder)
    queries = [Query("q1", "trust my therapist", frozenset({"x"}))]
    evaluate(searcher, queries, "dense")
    evaluate(searcher, queries, "hybrid")
    # The first warm-up encodes; then every measured query encodes again in both modes (the
    # second warm-up may reuse the vector: it is not measured).
    assert embedder.texts.count("trust my therapist") == 3


def test_query_text_is_never_logged_or_written(
    hash_index: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    from cli import main

    secret = "zqxjk my private worry about my marriage"
    with caplog.at_level(logging.DEBUG):  # even at the most verbose level
        searcher = Searcher(Searcher.open(hash_index).version, HashEmbedder())
        searcher.search(secret, k=3)
        searcher.needs_crisis_notice(secret)
        main(["search", secret, "--index", str(hash_index), "--json"])
    assert "zqxjk" not in caplog.text
    assert "zqxjk" not in capsys.readouterr().err
    for path in hash_index.rglob("*"):  # nothing on disk: no query log, no query cache
        assert not path.is_file() or b"zqxjk" not in path.read_bytes(), path
