"""Search stage with the fake embedder: ranking order, ties, filters before the cut, related."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import build_index
from search import MODES, PassageNotFound, Searcher, UnknownMode, weak_threshold
from tests.conftest import SEED
from tests.fakes import HashEmbedder


@pytest.fixture()
def searcher(hash_index: Path) -> Searcher:
    return Searcher.open(hash_index)


@pytest.mark.parametrize("mode", MODES)
def test_hits_are_ranked_in_every_mode(searcher: Searcher, mode: str) -> None:
    hits = searcher.search("how do you build trust in a therapeutic relationship", k=10, mode=mode)
    assert len(hits) == 10
    assert [h.rank for h in hits] == list(range(1, 11))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert hits[0].passage.question == "How do you build trust in a therapeutic relationship?"
    assert all(h.mode == mode for h in hits)
    # Every hit carries its dense part (cosines less half a hub radius in [0, 1]) and its closest
    # window's cosine; the lexical part is there unless the mode is dense.
    assert all(-1.5001 <= h.dense_score <= 1.0001 for h in hits)
    assert all(h.dense_score <= h.window_cosine <= 1.0001 for h in hits)
    assert all((h.lexical_score is None) == (mode == "dense") for h in hits)
    if mode == "dense":
        assert scores == [h.dense_score for h in hits]
    if mode == "lexical":
        assert scores == [h.lexical_score for h in hits] and scores[-1] > 0


def test_unknown_mode(searcher: Searcher) -> None:
    with pytest.raises(UnknownMode, match="hybrid"):
        searcher.search("trust", mode="fuzzy")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ('"trust" AND (therapist* NEAR/2 -relationship', "trust and therapist near 2 relationship"),
        ("trust) OR therapist: relationship NOT", "trust or therapist relationship not"),
        ('NEAR(trust therapist relationship, 5) "', "near trust therapist relationship 5"),
        ("trust'; DROP TABLE passages; -- therapist", "trust drop table passages therapist"),
        ("^trust + {therapist} relationship*", "trust therapist relationship"),
        ('"unbalanced (((', "unbalanced"),
    ],
)
def test_lexical_syntax_in_queries_is_plain_text(searcher: Searcher, query: str, words: str):
    # Operators are neither errors nor operators: the query means just its words.
    plain = searcher.search(words, k=5, mode="lexical", explain=False)
    hits = searcher.search(query, k=5, mode="lexical", explain=False)
    assert [h.passage.id for h in hits] == [h.passage.id for h in plain]
    assert len(searcher.search(query, k=5)) == 5  # hybrid too


def test_explanations(searcher: Searcher) -> None:
    hits = searcher.search("psychotherapy resistance unconscious defenses", k=3)
    top = hits[0]
    assert top.passage.question == "What is psychotherapy resistance?"
    assert {"psychotherapy", "resistance", "unconscious", "defenses"} <= set(top.matched_terms)
    for hit in hits:
        assert 1 <= len(hit.sentences) <= 2
        for sentence in hit.sentences:
            assert hit.passage.answer[sentence.start : sentence.end] == sentence.text
    as_json = top.to_dict()
    assert as_json["best_sentences"][0]["text"] == top.sentences[0].text
    assert as_json["matched_terms"] == list(top.matched_terms)
    assert {"dense_score", "lexical_score", "weak_match"} <= set(as_json)
    assert searcher.search("resistance", k=2, explain=False)[0].sentences == ()


def test_weak_match_flag(tmp_path: Path, searcher: Searcher) -> None:
    build_index([SEED], tmp_path / "ix", HashEmbedder())
    seed = Searcher.open(tmp_path / "ix")
    assert all(h.weak for h in seed.search("zzqx blorf wibble", k=3))
    assert not seed.search("what is psychotherapy resistance", k=1)[0].weak
    # The flag is the documented rule: best window's cosine under the model's threshold.
    limit = weak_threshold("hash-test")
    for hit in searcher.search("sleep and anxiety at night", k=20):
        assert hit.weak == (hit.window_cosine < limit)


def test_blank_query_gives_no_hits(searcher: Searcher) -> None:
    assert searcher.search("   ", k=5) == []
    many = searcher.search_many(["", "trust"], k=2)
    assert many[0] == [] and len(many[1]) == 2


def test_search_is_search_many(searcher: Searcher) -> None:
    single = searcher.search("depression and sleep", k=5)
    batch = searcher.search_many(["anxiety", "depression and sleep"], k=5)[1]
    assert [h.passage.id for h in single] == [h.passage.id for h in batch]


def test_ties_are_broken_by_id(tmp_path: Path) -> None:
    corpus = tmp_path / "dups.jsonl"
    rows = [
        {"id": f"x{i}", "question": "same question?", "answer": "same answer"} for i in (3, 1, 2)
    ]
    rows.append({"id": "other", "question": "unrelated", "answer": "cooking pasta at home"})
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    build_index([corpus], tmp_path / "ix", HashEmbedder())
    hits = Searcher.open(tmp_path / "ix").search("same question", k=3, mode="dense")
    assert [h.passage.id for h in hits] == ["x1", "x2", "x3"]


def test_topic_filter_applies_before_the_cut(searcher: Searcher) -> None:
    topics = dict(searcher.facet("topic"))
    topic, count = min(((t, n) for t, n in topics.items() if n >= 5), key=lambda t: t[1])
    hits = searcher.search("therapy", k=5, filters={"topic": [topic]})
    assert len(hits) == 5
    assert {h.passage.metadata["topic"] for h in hits} == {topic}
    # Asking for more than exist returns exactly all of them.
    assert len(searcher.search("therapy", k=count + 10, filters={"topic": [topic]})) == count


def test_source_filter_by_name_or_path(searcher: Searcher) -> None:
    by_name = searcher.search("trust", k=20, filters={"source": ["000_6fe00c9fba106d10.txt"]})
    assert len(by_name) == 7
    assert {Path(h.passage.source).name for h in by_name} == {"000_6fe00c9fba106d10.txt"}
    full = by_name[0].passage.source
    assert len(searcher.search("trust", k=20, filters={"source": [full]})) == 7
    assert searcher.search("trust", k=5, filters={"source": ["nope.txt"]}) == []


def test_related_excludes_itself(searcher: Searcher) -> None:
    first = searcher.search("psychotherapy resistance", k=1)[0]
    related = searcher.related(first.passage.id, k=4)
    assert len(related) == 4
    assert first.passage.id not in {h.passage.id for h in related}
    assert [h.rank for h in related] == [1, 2, 3, 4]


def test_unknown_passage_id(searcher: Searcher) -> None:
    with pytest.raises(PassageNotFound, match="counsel-search search"):
        searcher.related("p-not-there")


def test_info_and_hit_dict(searcher: Searcher) -> None:
    info = searcher.info()
    assert info.passages == 127 and info.documents == 2 and info.model == "hash-test"
    hit = searcher.search("grief", k=1)[0].to_dict()
    assert {"rank", "id", "score", "question", "answer", "source", "metadata"} <= set(hit)
