"""`counsel-search eval --docs`: a folder of documents indexed with the product's readers, queries
naming their relevant passages by file name and question text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from index import build_index, open_index
from search.evaluate import JudgedQuery, Query, load_queries, resolve
from tests.conftest import ROOT
from tests.fakes import HashEmbedder

SAMPLE = ROOT / "data" / "bench_sample" / "articles"


def test_queries_naming_passages_resolve_to_every_matching_passage(tmp_path: Path) -> None:
    doc = tmp_path / "faq.txt"
    doc.write_text(
        "FAQ\nWhat is stress?\nPressure.\nWhat helps?\nRest.\nWhat is stress?\nStrain.\n",
        encoding="utf-8",
    )
    build_index([doc], tmp_path / "ix", HashEmbedder())
    queries = tmp_path / "q.jsonl"
    lines = [
        {
            "qid": "a",
            "query": "stress",
            "relevant": [{"source": "faq.txt", "question": "what is  STRESS?"}],
        },
        {
            "qid": "b",
            "query": "gone",
            "relevant": [{"source": "faq.txt", "question": "Who is gone?"}],
        },
        {"qid": "c", "query": "ids", "relevant_ids": ["p1"]},
    ]
    queries.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    loaded = load_queries(queries)
    assert [type(q) for q in loaded] == [JudgedQuery, JudgedQuery, Query]
    version = open_index(tmp_path / "ix")
    resolved, unmatched = resolve(loaded, version.passages)
    stress = {p.id for _, p in version.passages.all_passages() if p.question == "What is stress?"}
    # Both sections under the question are relevant; case and spacing do not matter.
    assert len(stress) == 2 and resolved[0].relevant == frozenset(stress)
    # A passage the index does not have stays relevant and is never found: a miss.
    assert unmatched == 1 and len(resolved[1].relevant) == 1
    assert not resolved[1].relevant & {p.id for _, p in version.passages.all_passages()}
    assert resolved[2] is loaded[2]


def test_eval_docs_on_the_bundled_article_sample(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["eval", "--docs", str(SAMPLE / "docs"), "--queries", str(SAMPLE / "queries.dev.jsonl")]
    assert main([*argv, "--model", "hash-test", "--mode", "all", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["mode"] for r in rows] == ["hybrid", "dense", "lexical"]
    assert all(r["queries"] == 23 and 0.0 < r["recall_at_100"] <= 1.0 for r in rows)
    # Every relevant passage of the sample is one the product's splitter makes.
    assert "match no passage" not in err and rows[0]["corpus"].endswith("docs")


def test_eval_needs_a_corpus_or_documents(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--queries", str(SAMPLE / "queries.dev.jsonl")])
    assert "--corpus" in capsys.readouterr().err
