"""The CLI: commands, JSON output, one-line errors without tracebacks."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main
from tests.conftest import SEED

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
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "nDCG@10" in out and out.count("hybrid") == 1
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
    argv = [
        str(BIN),
        "build",
        str(sample_corpus),
        "--index",
        str(tmp_path / "ix"),
        "--model",
        "hash-test",
    ]
    piped = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert piped.stderr == "" and "Published" in piped.stdout
    # On a terminal: bars for files read and windows embedded, with rate and time left.
    primary, replica = pty.openpty()
    argv[4] = str(tmp_path / "ix2")
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=replica, check=True)
    os.close(replica)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    bars = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "documents read" in bars and "windows embedded" in bars
    assert "windows/s" in bars and "<00:00" in bars  # rate and time left
    quiet = subprocess.run(
        [*argv[:3], "--index", str(tmp_path / "ix3"), "--model", "hash-test", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert quiet.stderr == "" and json.loads(quiet.stdout)["passages"] == 127
