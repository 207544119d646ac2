"""The CLI's documented contracts (README, "The command line"): a build with bad files indexes
the good ones, prints one `warning:` line per bad file and exits 3; `search --json` and
`related --json` print exactly the documented fields."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli import main
from tests.conftest import ROOT, SEED

# The README's "JSON" bullet, in its order.
JSON_FIELDS = (
    "rank",
    "id",
    "score",
    "mode",
    "dense_score",
    "lexical_score",
    "window_cosine",
    "weak_match",
    "question",
    "answer",
    "source",
    "sources",
    "doc_id",
    "pages",
    "metadata",
    "matched_span",
    "best_sentences",
    "matched_terms",
)

GOOD_MD = """# Calm notes

## How do I calm down when I panic?

Breathe out slowly, longer than you breathe in, and name five things you can see.

## Why do I worry at night?

Worry is the mind rehearsing danger; writing the worry down lets it rest until morning.
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _readme_json_fields() -> list[str]:
    """The field names the README's JSON bullet lists, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bullet = re.search(r"^- \*\*JSON\*\*:(.*?)(?=^- |^#|\Z)", readme, re.S | re.M)
    assert bullet, 'README.md has no "- **JSON**:" bullet under "The command line"'
    text = bullet.group(1)
    assert "`search` and `related`" in text  # both commands print these objects
    return [name for name in re.findall(r"`([a-z_]+)`", text) if name not in {"search", "related"}]


def test_the_readme_documents_these_json_fields() -> None:
    assert _readme_json_fields() == list(JSON_FIELDS)


# -- partial failure: exit 3, one warning per bad file, the good files indexed -------------------


@pytest.fixture()
def mixed_sources(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """Source arguments with two good documents and four bad files; the bad files' paths
    (as the warnings name them) by what is wrong with them."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "calm.md").write_text(GOOD_MD, encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "people.csv").write_text("name,age\nann,3\n", encoding="utf-8")
    missing = tmp_path / "missing.md"
    bad = {
        "empty": str(folder / "empty.txt"),
        "binary": str(folder / "binary.txt"),
        "no answer column": str(folder / "people.csv"),
        "missing": str(missing),
    }
    return [str(folder), str(SEED), str(missing)], bad


def _one_warning_per_bad_file(err: str, bad: dict[str, str]) -> None:
    lines = err.splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), err
    assert len(lines) == len(bad), err
    for path in bad.values():  # each bad file named in exactly one line, at its start
        assert sum(line.startswith(f"warning: {path}:") for line in lines) == 1, (path, err)
    assert "Traceback" not in err


def test_a_build_with_bad_files_indexes_the_rest_and_exits_3(
    tmp_path: Path, mixed_sources: tuple[list[str], dict[str, str]], capsys
) -> None:
    sources, bad = mixed_sources
    ix = str(tmp_path / "ix")
    code, out, err = run(capsys, "build", *sources, "--index", ix, "--model", "hash-test")
    assert code == 3
    _one_warning_per_bad_file(err, bad)
    assert f"{len(bad)} problem(s) reported above" in out
    # The good documents are indexed, whole.
    code, out, _ = run(capsys, "info", "--index", ix, "--json")
    info = json.loads(out)
    calm = str(tmp_path / "src" / "calm.md")
    assert code == 0 and sorted(info["sources"]) == sorted([calm, str(SEED)])
    assert info["documents"] == 2 and info["passages"] == 2 + 7
    code, out, _ = run(capsys, "search", "calm down panic", "--index", ix, "-k", "1", "--json")
    hit = json.loads(out)
    assert code == 0 and hit["source"] == calm and hit["question"].startswith("How do I calm")

    # The same with --json: the errors in the result object too, the warnings still on stderr.
    ix2 = str(tmp_path / "ix2")
    code, out, err = run(
        capsys, "build", *sources, "--index", ix2, "--model", "hash-test", "--json"
    )
    result = json.loads(out)
    assert code == 3 and result["documents"] == 2 and result["passages"] == 9
    assert len(result["errors"]) == len(bad)
    for path in bad.values():
        assert sum(e.startswith(f"{path}:") for e in result["errors"]) == 1
    _one_warning_per_bad_file(err, bad)


def test_add_with_a_bad_file_adds_the_good_one_and_exits_3(
    hash_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ix = str(hash_index)
    before = json.loads(run(capsys, "info", "--index", ix, "--json")[1])
    good = tmp_path / "calm.md"
    good.write_text(GOOD_MD, encoding="utf-8")
    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    code, _, err = run(capsys, "add", str(good), str(empty), "--index", ix)
    assert code == 3
    _one_warning_per_bad_file(err, {"empty": str(empty)})
    after = json.loads(run(capsys, "info", "--index", ix, "--json")[1])
    assert after["documents"] == before["documents"] + 1
    assert after["passages"] == before["passages"] + 2 and str(good) in after["sources"]
    # Nothing bad: exit 0, no warnings.
    code, _, err = run(capsys, "add", str(good), "--index", ix)
    assert code == 0 and err == ""


# -- the JSON fields of search and related ---------------------------------------------------


def _check_hit(hit: dict, rank: int, mode: str) -> None:
    assert set(hit) == set(JSON_FIELDS), set(hit) ^ set(JSON_FIELDS)
    assert hit["rank"] == rank and hit["mode"] == mode
    assert isinstance(hit["id"], str) and isinstance(hit["doc_id"], str) and hit["id"]
    assert isinstance(hit["score"], float) and isinstance(hit["weak_match"], bool)
    for name in ("dense_score", "lexical_score", "window_cosine"):
        assert hit[name] is None or isinstance(hit[name], float), name
    assert isinstance(hit["question"], str) and isinstance(hit["answer"], str) and hit["answer"]
    assert isinstance(hit["source"], str) and hit["source"] in hit["sources"]
    assert isinstance(hit["metadata"], dict)
    span = hit["matched_span"]
    assert span is None or (len(span) == 2 and 0 <= span[0] <= span[1] <= len(hit["answer"]))
    assert isinstance(hit["best_sentences"], list) and isinstance(hit["matched_terms"], list)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_search_json_prints_exactly_the_documented_fields(
    mode: str, hash_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["search", "psychotherapy resistance", "--index", str(hash_index), "-k", "4"]
    code, out, _ = run(capsys, *argv, "--mode", mode, "--json")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(hits) == 4
    for rank, hit in enumerate(hits, start=1):
        _check_hit(hit, rank, mode)
    # The explanations are filled in (not just present as empty lists).
    assert any(h["matched_terms"] for h in hits) and any(h["best_sentences"] for h in hits)


def test_related_json_prints_the_same_fields(
    hash_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ix = str(hash_index)
    code, out, _ = run(capsys, "search", "trust my therapist", "--index", ix, "-k", "1", "--json")
    start = json.loads(out)["id"]
    code, out, _ = run(capsys, "related", start, "--index", ix, "-k", "3", "--json")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(hits) == 3 and start not in {h["id"] for h in hits}
    for rank, hit in enumerate(hits, start=1):
        _check_hit(hit, rank, "dense")  # related ranks by dense similarity


def test_a_relative_index_path_works_for_every_later_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A relative --index (or COUNSEL_SEARCH_INDEX) once crashed every command after the first
    # build with a traceback: the read-only SQLite URI needs an absolute path.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.md").write_text(GOOD_MD, encoding="utf-8")
    assert run(capsys, "build", "notes.md", "--index", "ix", "--model", "hash-test")[0] == 0
    code, out, err = run(capsys, "search", "calm down panic", "--index", "ix", "--json")
    assert code == 0 and err == "" and json.loads(out.splitlines()[0])["rank"] == 1
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", "./ix")
    assert run(capsys, "info")[0] == 0
    assert run(capsys, "add", "notes.md")[0] == 0
