"""The CLI: commands, JSON output, one-line errors without tracebacks."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main
from search import RankingConfig
from search.explore import default_k, umap_available
from search.export import FIELDS
from tests.conftest import ROOT, SEED
from tests.fakes import CLI_WITH_HASH, run_on_terminal

BIN = Path(sys.executable).with_name("counsel-search")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_passages_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "passages", str(SEED), "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 7
    assert rows[2]["question"] == "What is psychotherapy resistance?"
    assert {"id", "source", "answer", "metadata"} <= set(rows[0])


def test_build_search_related_info(
    tmp_path: Path, sample_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ix = str(tmp_path / "ix")
    code, out, _ = run(capsys, "build", str(sample_corpus), "--index", ix, "--model", "hash-test")
    assert code == 0 and "127 passages" in out
    code, out, _ = run(capsys, "search", "trust my therapist", "--index", ix, "-k", "3", "--json")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [h["rank"] for h in hits] == [1, 2, 3]
    assert {"rank", "id", "score", "question", "answer", "source", "metadata"} <= set(hits[0])
    code, out, _ = run(
        capsys, "search", "sad", "--index", ix, "-k", "4", "--topic", "depression", "--json"
    )
    assert [json.loads(line)["metadata"]["topic"] for line in out.splitlines()] == [
        "depression"
    ] * 4
    code, out, _ = run(capsys, "related", hits[0]["id"], "--index", ix, "-k", "2", "--json")
    related = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(related) == 2 and hits[0]["id"] not in {r["id"] for r in related}
    code, out, _ = run(capsys, "info", "--index", ix, "--json")
    info = json.loads(out)
    assert info["passages"] == 127 and info["documents"] == 2 and info["model"] == "hash-test"
    code, out, _ = run(capsys, "search", "trust", "--index", ix, "-k", "2")
    assert code == 0 and out.startswith(" 1. [")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["search", "hello", "--index", "{tmp}/none"], "counsel-search build"),
        (["related", "nope", "--index", "{ix}"], "no passage with id 'nope'"),
        (
            ["build", "{tmp}/missing.txt", "--index", "{tmp}/ix2", "--model", "hash-test"],
            "missing.txt",
        ),
        (["search", "x", "--index", "{ix}", "--model", "{tmp}/no-model"], "no-model"),
    ],
)
def test_user_mistakes_are_one_line(
    argv: list[str],
    needle: str,
    tmp_path: Path,
    hash_index: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [a.format(tmp=tmp_path, ix=hash_index) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in err


def test_console_script_help_has_examples() -> None:
    assert BIN.exists(), "counsel-search console script is installed"
    for cmd in ("passages", "build", "add", "remove", "search", "related", "eval", "info", "app"):
        out = subprocess.run([str(BIN), cmd, "--help"], capture_output=True, text=True, check=True)
        assert "Example:" in out.stdout and f"counsel-search {cmd}" in out.stdout


def test_console_script_error_exit_code(tmp_path: Path) -> None:
    env = {**os.environ, "COUNSEL_SEARCH_INDEX": str(tmp_path / "none")}
    proc = subprocess.run([str(BIN), "search", "hi"], capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and str(tmp_path / "none") in proc.stderr


def test_eval_prints_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"id": "a1", "question": "", "answer": "Panic attacks come with a racing heart."},
        {"id": "a2", "question": "", "answer": "Grief after a loss takes time to soften."},
        {"id": "a3", "question": "", "answer": "Couples therapy helps partners communicate."},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    queries = tmp_path / "queries.jsonl"
    qrows = [
        {"qid": "q1", "query": "racing heart panic", "relevant_ids": ["a1"]},
        {"qid": "q2", "query": "loss and grief", "relevant_ids": ["a2"]},
        {"qid": "q3", "query": "zzz nothing", "relevant_ids": ["a3"]},
    ]
    queries.write_text("\n".join(json.dumps(r) for r in qrows))
    argv = ["eval", "--corpus", str(corpus), "--queries", str(queries), "--model", "hash-test"]
    code, out, _ = run(capsys, *argv, "--mode", "all", "--json")
    results = {r["mode"]: r for r in map(json.loads, out.splitlines())}
    assert code == 0 and set(results) == {"hybrid", "dense", "lexical"}
    lexical = results["lexical"]
    # q1 and q2 are found first by their words; q3 has no matching word (no lexical hits).
    assert lexical["mrr_at_10"] == pytest.approx(2 / 3, abs=1e-4)
    assert lexical["recall_at_100"] == pytest.approx(2 / 3, abs=1e-4)
    assert {"ndcg_at_10", "recall_at_10", "latency_p50_ms", "latency_p95_ms"} <= set(lexical)
    # Each figure carries the ranking settings it was measured with.
    assert all(r["ranking"] == RankingConfig().to_dict() for r in results.values())
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "nDCG@10" in out and out.count("hybrid") == 1
    assert f"ranking: {RankingConfig().summary()}" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"qid": "q1", "query": "x", "relevant_ids": ["a1"]}\nnot json\n')
    code, _, err = run(capsys, "eval", "--corpus", str(corpus), "--queries", str(bad))
    assert code == 1 and f"{bad}:2" in err


def test_search_json_carries_explanations(
    hash_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "search", "psychotherapy resistance", "--index", str(hash_index), "--json"
    )
    hit = json.loads(out.splitlines()[0])
    assert code == 0 and hit["mode"] == "hybrid"
    assert hit["weak_match"] is False and hit["matched_terms"][:2] == [
        "psychotherapy",
        "resistance",
    ]
    assert hit["best_sentences"] and isinstance(hit["dense_score"], float)
    seed_ix = str(hash_index.parent / "seed-ix")
    run(capsys, "build", str(SEED), "--index", seed_ix, "--model", "hash-test")
    code, out, _ = run(capsys, "search", "zzqx blorf wibble", "--index", seed_ix)
    assert code == 0 and out.startswith("Weak match")
    code, out, _ = run(capsys, "search", "psychotherapy resistance", "--index", seed_ix)
    assert code == 0 and not out.startswith("Weak match")


def test_progress_bars_only_on_a_terminal(tmp_path: Path, sample_corpus: Path) -> None:
    def argv(index: str, *more: str) -> list[str]:
        args = ["build", str(sample_corpus), "--index", str(tmp_path / index)]
        return [*CLI_WITH_HASH, *args, "--model", "hash-test", *more]

    piped = subprocess.run(argv("ix"), capture_output=True, text=True, check=True, cwd=ROOT)
    assert piped.stderr == "" and "Published" in piped.stdout
    # On a terminal: bars for files read and windows embedded, with rate and time left.
    code, bars = run_on_terminal(argv("ix2"), ROOT)
    assert code == 0
    assert "documents read" in bars and "windows embedded" in bars
    assert "windows/s" in bars and "<00:00" in bars  # rate and time left
    quiet = subprocess.run(
        argv("ix3", "--json"), capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert quiet.stderr == "" and json.loads(quiet.stdout)["passages"] == 127


def test_themes_command(hash_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ix = str(hash_index)
    code, out, _ = run(capsys, "themes", "--k", "4", "--index", ix, "--json")
    themes = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [t["cluster"] for t in themes] == [0, 1, 2, 3]
    assert sum(t["size"] for t in themes) == 127 and all(t["terms"] for t in themes)
    assert all(t["label"] == " · ".join(t["terms"][:3]) for t in themes)
    code, text, _ = run(capsys, "themes", "--k", "4", "--index", ix)
    assert code == 0 and text.startswith("4 themes of 127 passages")
    for t in themes:  # number, label, size and central question of each theme
        assert f"{t['cluster']:>2}. {t['label']}  [{t['size']} passages]" in text
        assert t["central_question"] in text
    code, out, _ = run(capsys, "themes", "--index", ix, "--format", "csv")
    reader = csv.DictReader(io.StringIO(out, newline=""))
    rows = list(reader)
    assert code == 0 and tuple(reader.fieldnames or ()) == FIELDS and len(rows) == 127
    assert {r["kind"] for r in rows} == {"theme"} and {r["model"] for r in rows} == {"hash-test"}
    assert len({r["cluster"] for r in rows}) == default_k(127)
    code, _, err = run(capsys, "themes", "--k", "0", "--index", ix)
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: --k")


def test_search_and_related_export_formats(
    hash_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ix = str(hash_index)
    code, out, _ = run(capsys, "info", "--index", ix, "--json")
    version = json.loads(out)["version"]
    code, out, _ = run(
        capsys, "search", "trust, and safety", "--index", ix, "-k", "3", "--format", "csv"
    )
    reader = csv.DictReader(io.StringIO(out, newline=""))
    rows = list(reader)
    assert code == 0 and tuple(reader.fieldnames or ()) == FIELDS
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert {(r["kind"], r["query"], r["mode"]) for r in rows} == {
        ("search", "trust, and safety", "hybrid")
    }
    assert {r["index_version"] for r in rows} == {version}
    code, out, _ = run(
        capsys, "related", rows[0]["passage_id"], "--index", ix, "-k", "2", "--format", "jsonl"
    )
    related = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(related) == 2 and list(related[0]) == list(FIELDS)
    assert {(r["kind"], r["from_id"], r["step"]) for r in related} == {
        ("related", rows[0]["passage_id"], 0)
    }
    assert rows[0]["passage_id"] not in {r["passage_id"] for r in related}
    with pytest.raises(SystemExit) as exit_info:  # one output form at a time
        main(["search", "trust", "--index", ix, "--json", "--format", "csv"])
    assert exit_info.value.code == 2
    capsys.readouterr()


def test_map_command_caches_per_version(
    hash_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ix = str(hash_index)
    code, first, err = run(capsys, "map", "--method", "pca", "--index", ix)
    rows = list(csv.DictReader(io.StringIO(first, newline="")))
    assert code == 0 and first.startswith("id,x,y,topic,source,question\n") and len(rows) == 127
    assert err.count("\n") == 1 and "pca" in err and "computed" in err
    out_file = tmp_path / "map.csv"
    code, out, err = run(capsys, "map", "--method", "pca", "--index", ix, "--out", str(out_file))
    assert code == 0 and out == "" and "cache" in err and str(out_file) in err
    assert out_file.read_text(encoding="utf-8") == first
    no_dir = str(tmp_path / "no" / "x.csv")
    code, out, err = run(capsys, "map", "--method", "pca", "--index", ix, "--out", no_dir)
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: cannot write")


def test_map_umap_without_umap_learn_is_one_line(
    hash_index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # umap-learn is installed with the dev extra: simulate its absence (None in sys.modules makes
    # both find_spec and import report it missing).
    monkeypatch.setitem(sys.modules, "umap", None)
    assert not umap_available()
    code, out, err = run(capsys, "map", "--method", "umap", "--index", str(hash_index))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("error: ") and "umap" in err and "Traceback" not in err


@pytest.mark.parametrize("cmd", ["themes", "map"])
def test_new_commands_have_help_with_an_example(
    cmd: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([cmd, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "Example:" in out and f"counsel-search {cmd}" in out


def test_search_shows_the_crisis_notice_on_stderr(
    hash_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "search", "I want to kill myself", "--index", str(hash_index))
    assert code == 0 and "988" in err and "988" not in out
    assert out.strip()  # the results still follow
    code, out, err = run(capsys, "search", "trust my therapist", "--index", str(hash_index))
    assert code == 0 and "988" not in err
