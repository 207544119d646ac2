"""Search stage with the fake embedder: ranking order, ties, filters before the cut, related."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import HashEmbedder, build_index
from search import PassageNotFound, Searcher


@pytest.fixture()
def searcher(hash_index: Path) -> Searcher:
    return Searcher.open(hash_index)


def test_hits_are_ranked_by_cosine(searcher: Searcher) -> None:
    hits = searcher.search("how do you build trust in a therapeutic relationship", k=10)
    assert len(hits) == 10
    assert [h.rank for h in hits] == list(range(1, 11))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0001 <= s <= 1.0001 for s in scores)
    assert hits[0].passage.question == "How do you build trust in a therapeutic relationship?"


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
    hits = Searcher.open(tmp_path / "ix").search("same question", k=3)
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
