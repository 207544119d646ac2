"""Exports: CSV and JSON lines that read back intact and say where every row came from."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from search import Searcher
from search import explore as ex
from search import export as xp


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory, sample_corpus: Path) -> Searcher:
    from index import build_index
    from tests.fakes import HashEmbedder

    index_dir = tmp_path_factory.mktemp("export") / "index"
    build_index([sample_corpus], index_dir, HashEmbedder())
    return Searcher.open(index_dir)


def _read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_hit_rows_carry_provenance(searcher: Searcher) -> None:
    hits = searcher.search("trust my therapist", k=5, mode="hybrid")
    rows = xp.hit_rows(hits, searcher=searcher, query="trust my therapist", mode="hybrid")
    assert len(rows) == 5 and all(tuple(r) == xp.FIELDS for r in rows)
    for row, hit in zip(rows, hits, strict=True):
        assert row["kind"] == "search" and row["query"] == "trust my therapist"
        assert row["mode"] == "hybrid" and row["rank"] == hit.rank
        assert row["index_version"] == searcher.version.version == searcher.info().version
        assert row["model"] == searcher.version.manifest.model_name == searcher.info().model
        assert (row["passage_id"], row["doc_id"], row["source"]) == (
            hit.passage.id,
            hit.passage.doc_id,
            hit.passage.source,
        )
        assert row["score"] == pytest.approx(hit.score, abs=1e-6)
        assert row["dense_score"] == pytest.approx(hit.dense_score, abs=1e-6)
        assert row["topic"] == (hit.passage.metadata.get("topic") or "")
        assert row["step"] is None and row["from_id"] is None and row["cluster"] is None
        assert datetime.fromisoformat(row["exported_at"])  # ISO 8601, UTC
    assert len({r["exported_at"] for r in rows}) == 1


def test_hit_rows_with_themes_name_the_cluster(searcher: Searcher) -> None:
    found = ex.themes(searcher, k=4)
    hits = searcher.search("winter blues", k=3, explain=False)
    rows = xp.hit_rows(hits, searcher=searcher, query="winter blues", mode="hybrid", themes=found)
    for row in rows:
        cluster = found.cluster_of(row["passage_id"])
        assert row["cluster"] == cluster
        assert row["cluster_label"] == found.themes[cluster].label


def test_csv_round_trip_keeps_newlines_commas_and_quotes(searcher: Searcher) -> None:
    hits = searcher.search("worthless", k=3, explain=False)
    tricky = 'Line one, with a comma;\n"quoted" line two\r\nand café ünïcode'
    hits[1] = dataclasses.replace(
        hits[1], passage=dataclasses.replace(hits[1].passage, answer=tricky)
    )
    rows = xp.hit_rows(hits, searcher=searcher, query='q, "x"\nnext', mode="dense")
    text = xp.to_csv(rows)
    header, back = _read_csv(text)
    assert header == list(xp.FIELDS) and len(back) == 3
    assert back[1]["answer"] == tricky and back[0]["query"] == 'q, "x"\nnext'
    for row, read in zip(rows, back, strict=True):
        for field in xp.FIELDS:
            expected = "" if row[field] is None else str(row[field])
            assert read[field] == expected, field
    assert xp.to_csv([]).splitlines() == [",".join(xp.FIELDS)]


def test_jsonl_lines_parse_with_fields_in_order(searcher: Searcher) -> None:
    hits = searcher.search("winter blues", k=4, explain=False)
    rows = xp.hit_rows(hits, searcher=searcher, query="hiver café", mode="hybrid")
    text = xp.to_jsonl(rows)
    lines = text.splitlines()
    assert len(lines) == 4 and text.endswith("\n")
    assert "café" in lines[0]  # not escaped
    back = [json.loads(line) for line in lines]
    assert all(list(b) == list(xp.FIELDS) for b in back)
    assert [b["passage_id"] for b in back] == [h.passage.id for h in hits]
    assert back[0]["step"] is None and back[0]["rank"] == 1
    assert xp.to_jsonl([]) == ""


def test_walk_rows_follow_each_step(searcher: Searcher) -> None:
    start = searcher.search("winter blues", k=1, explain=False)[0].passage.id
    second = searcher.related(start, k=1)[0].passage.id
    walk = [start, second]
    rows = xp.walk_rows(searcher, walk, k=3)
    assert len(rows) == 6
    assert [r["step"] for r in rows] == [0, 0, 0, 1, 1, 1]
    assert [r["from_id"] for r in rows] == [start] * 3 + [second] * 3
    assert {r["query"] for r in rows} == {f"related:{start}"}
    assert {(r["kind"], r["mode"]) for r in rows} == {("related", "dense")}
    for step, pid in enumerate(walk):
        related = [h.passage.id for h in searcher.related(pid, k=3)]
        assert [r["passage_id"] for r in rows if r["step"] == step] == related
        assert pid not in related
    assert xp.walk_rows(searcher, []) == []


def test_theme_rows_cover_every_passage_once(searcher: Searcher) -> None:
    found = ex.themes(searcher, k=5)
    rows = xp.theme_rows(searcher, found)
    ids = [p["id"] for p in ex.passage_table(searcher)]
    assert sorted(r["passage_id"] for r in rows) == sorted(ids)
    clusters = [r["cluster"] for r in rows]
    assert clusters == sorted(clusters)  # cluster by cluster
    for row in rows:
        assert row["kind"] == "theme" and row["index_version"] == searcher.version.version
        assert row["cluster"] == found.cluster_of(row["passage_id"])
        assert row["cluster_label"] == found.themes[row["cluster"]].label
        assert row["model"] == searcher.version.manifest.model_name and row["source"]
    header, back = _read_csv(xp.to_csv(rows))
    assert header == list(xp.FIELDS) and len(back) == len(ids)


def test_map_rows(searcher: Searcher) -> None:
    found = ex.corpus_map(searcher, "pca")
    rows = xp.map_rows(searcher, found)
    header, back = _read_csv(xp.to_csv(rows, xp.MAP_FIELDS))
    assert header == list(xp.MAP_FIELDS) == ["id", "x", "y", "topic", "source", "question"]
    assert [r["id"] for r in back] == list(found.ids)
    assert float(back[3]["x"]) == pytest.approx(float(found.xy[3, 0]), abs=1e-5)
    assert float(back[3]["y"]) == pytest.approx(float(found.xy[3, 1]), abs=1e-5)
