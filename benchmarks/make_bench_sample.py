"""Cut the small bench sample that ships in data/bench_sample/ (used by notebooks/evaluate.ipynb).

    .venv/bin/python -m benchmarks.make_bench_sample                 # from ../shared/bench
    .venv/bin/python -m benchmarks.make_bench_sample --bench DIR --queries 40 --passages 400

Only the CounselChat tasks (MIT licence) are sampled: the FAQ task's data states no licence and
must not be redistributed. Per task: the first `--queries` dev queries in file order, every
corpus passage relevant to them, then the first other passages in file order until the corpus
holds `--passages`. Lines are copied byte for byte (file formats unchanged), in their original
order, so the output is deterministic and diffs cleanly. For `articles` (documents): the first
`--articles` article files by name, copied whole, and every dev query all of whose relevant
passages are in them.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import BENCH, ROOT, command_line

TASKS = ["cc_body_to_titled_answer", "cc_body_to_answer", "cc_title_to_answer"]


def _lines(path: Path) -> list[str]:
    # Split on "\n" only: str.splitlines would also split inside a JSON string holding U+2028.
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def sample_task(src: Path, dst: Path, queries: int, passages: int) -> tuple[int, int]:
    """Write dst/{corpus,queries.dev}.jsonl from src; return (queries, passages) written."""
    query_lines = _lines(src / "queries.dev.jsonl")
    chosen = query_lines[:queries]
    relevant = {rid for ln in chosen for rid in json.loads(ln)["relevant_ids"]}
    corpus_lines = _lines(src / "corpus.jsonl")
    ids = [json.loads(ln)["id"] for ln in corpus_lines]
    missing = relevant.difference(ids)
    if missing:
        raise SystemExit(f"{src}: relevant ids not in the corpus: {sorted(missing)[:5]}")
    keep = set(relevant)
    for pid in ids:
        if len(keep) >= passages:
            break
        keep.add(pid)
    dst.mkdir(parents=True, exist_ok=True)
    kept = [ln for ln, pid in zip(corpus_lines, ids, strict=True) if pid in keep]
    (dst / "corpus.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    (dst / "queries.dev.jsonl").write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return len(chosen), len(kept)


def sample_articles(src: Path, dst: Path, articles: int) -> tuple[int, int]:
    """Copy the first `articles` files of src/docs and the dev queries they fully answer."""
    files = sorted((src / "docs").iterdir())[:articles]
    names = {f.name for f in files}
    (dst / "docs").mkdir(parents=True, exist_ok=True)
    for f in files:
        (dst / "docs" / f.name).write_bytes(f.read_bytes())
    chosen = [
        ln
        for ln in _lines(src / "queries.dev.jsonl")
        if all(r["source"] in names for r in json.loads(ln)["relevant"])
    ]
    (dst / "queries.dev.jsonl").write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return len(chosen), len(files)


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("--bench", type=Path, default=BENCH)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "bench_sample")
    parser.add_argument("--queries", type=int, default=40, help="dev queries per task")
    parser.add_argument("--passages", type=int, default=400, help="corpus passages per task")
    parser.add_argument("--articles", type=int, default=12, help="article files of `articles`")
    args = parser.parse_args(argv)
    for task in TASKS:
        n_queries, n_passages = sample_task(
            args.bench / task, args.out / task, args.queries, args.passages
        )
        print(f"{task}: {n_queries} queries, {n_passages} passages -> {args.out / task}")
    n_queries, n_files = sample_articles(
        args.bench / "articles", args.out / "articles", args.articles
    )
    print(f"articles: {n_queries} queries, {n_files} articles -> {args.out / 'articles'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
