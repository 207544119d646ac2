"""The `counsel-search` command: a thin face over the index and search stages."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from index import (
    DEFAULT_MODEL,
    add_sources,
    build_index,
    default_index_dir,
    load_embedder,
    open_index,
    remove_sources,
)
from index.publish import ENV_INDEX
from index.uploads import MAX_UPLOAD_MB
from ingest import CounselSearchError, read_sources
from search import DEFAULT_MODE, MODES, WEAK_NOTE, Hit, Searcher
from search.evaluate import evaluate, load_queries

EPILOG_INDEX = (
    f"The index directory defaults to ${ENV_INDEX}, else ~/.local/share/counsel-search/index."
)


def _out(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _progress_bars(
    enabled: bool,
) -> tuple[Callable[[str, int, int], None] | None, Callable[[], None]]:
    """tqdm bars on a terminal; nothing when output is piped or --json is on."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bars: dict[str, Any] = {}
    # A terminal that reports no size (some ptys, CI consoles) would get zero-width bars, or
    # none at all: tqdm hides bars below a screen height of 0.
    size = os.get_terminal_size(sys.stderr.fileno())
    width, height = min(size.columns or 100, 120), size.lines or 24
    labels = {"read": ("documents read", " files"), "embed": ("windows embedded", " windows")}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for earlier in bars.values():  # one bar at a time: the previous stage is done
                earlier.close()
            desc, unit = labels.get(stage, (stage, ""))
            bar = bars[stage] = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                leave=True,
                ncols=width,
                nrows=height,
            )
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def _filters(args: argparse.Namespace) -> dict[str, list[str]]:
    return {"topic": args.topic or [], "source": args.source or []}


def _print_hits(hits: list[Hit], as_json: bool, query: str | None = None) -> None:
    if as_json:
        for hit in hits:
            _out(hit.to_dict())
        return
    if not hits:
        print("No results." + (" Try other words or remove a filter." if query else ""))
    elif query and hits[0].weak:
        print(WEAK_NOTE + "\n")
    for hit in hits:
        p = hit.passage
        topic = p.metadata.get("topic")
        print(f"{hit.rank:>2}. [{hit.summary()}] {p.question or '(no question)'}")
        print(f"    id {p.id} · {Path(p.source).name}" + (f" · {topic}" if topic else ""))
        if hit.sentences:
            for sentence in hit.sentences:
                print(f"    » {' '.join(sentence.text.split())}")
        else:
            answer = " ".join(p.answer.split())
            print(f"    {answer[:300]}{'…' if len(answer) > 300 else ''}")
        if hit.matched_terms:
            print(f"    terms: {', '.join(hit.matched_terms)}")
        print()


def cmd_passages(args: argparse.Namespace) -> int:
    result = read_sources(args.sources, question_col=args.question_col, answer_col=args.answer_col)
    for err in result.errors:
        print(f"warning: {err.one_line()}", file=sys.stderr)
    for p in result.passages:
        if args.json:
            _out(
                {
                    "id": p.id,
                    "doc_id": p.doc_id,
                    "source": p.source,
                    "sources": list(p.sources),
                    "position": p.position,
                    "question": p.question,
                    "answer": p.answer,
                    "metadata": p.metadata,
                }
            )
        else:
            print(f"{p.id}  {Path(p.source).name}#{p.position}  {p.question or p.answer[:80]}")
    if not args.json:
        print(
            f"{len(result.passages)} passages from {len(result.files)} documents", file=sys.stderr
        )
    if not result.errors:
        return 0
    return 3 if result.passages else 1


def _update(args: argparse.Namespace, action: str) -> int:
    """build, add and remove: run the update, print what it did."""
    index_dir = Path(args.index) if args.index else default_index_dir()
    embedder = load_embedder(args.model or _model_of(index_dir))
    progress, close = _progress_bars(sys.stderr.isatty() and not args.json)
    try:
        if action == "remove":
            report = remove_sources(args.sources, index_dir, embedder, progress=progress)
        else:
            update = build_index if action == "build" else add_sources
            report = update(
                args.sources,
                index_dir,
                embedder,
                question_col=args.question_col,
                answer_col=args.answer_col,
                progress=progress,
            )
    finally:
        close()
    for err in report.errors:
        print(f"warning: {err.one_line()}", file=sys.stderr)
    plan = report.plan
    changes = {
        "documents": {
            "added": len(plan.documents_added),
            "changed": len(plan.documents_changed),
            "removed": len(plan.documents_removed),
            "unchanged": len(plan.documents_unchanged),
        },
        "passages": {
            "added": plan.passages_added,
            "changed": plan.passages_changed,
            "removed": plan.passages_removed,
            "unchanged": plan.passages_unchanged,
        },
    }
    if args.json:
        _out(
            {
                "index": str(report.index_dir),
                "version": report.version,
                "documents": report.documents,
                "passages": report.passages,
                "vectors": report.vectors,
                "embedded": report.embedded,
                "seconds": round(report.seconds, 3),
                **{f"{k}_{kind}": v for k, part in changes.items() for kind, v in part.items()},
                "errors": [e.one_line() for e in report.errors],
            }
        )
    else:
        for what, part in changes.items():
            print(f"{what.capitalize():>10}: " + ", ".join(f"{v} {k}" for k, v in part.items()))
        print(
            f"  Embedded: {report.embedded} of {report.vectors} windows (the rest from the cache)"
        )
        print(
            f"Published {report.index_dir} (version {report.version}): {report.documents} "
            f"documents, {report.passages} passages, in {report.seconds:.1f} s"
            + (f"; {len(report.errors)} problem(s) reported above" if report.errors else "")
        )
    # 3: the index was updated, but some files were skipped (each named in a warning above).
    return 3 if report.errors else 0


def _model_of(index_dir: Path) -> str | None:
    """The model an existing index was built with, so add/remove/build keep using it."""
    try:
        version = open_index(index_dir)
    except CounselSearchError:
        return None
    try:
        return version.manifest.model_name
    finally:
        version.close()


def cmd_build(args: argparse.Namespace) -> int:
    return _update(args, "build")


def cmd_add(args: argparse.Namespace) -> int:
    return _update(args, "add")


def cmd_remove(args: argparse.Namespace) -> int:
    return _update(args, "remove")


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        print(
            'Type a question to search for, e.g. counsel-search search "how do I build trust"',
            file=sys.stderr,
        )
        return 2
    searcher = Searcher.open(args.index, model=args.model)
    hits = searcher.search(args.query, k=args.k, filters=_filters(args), mode=args.mode)
    _print_hits(hits, args.json, args.query)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    queries = load_queries(args.queries)
    embedder = load_embedder(args.model)
    modes = list(MODES) if args.mode == "all" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="counsel-eval-") as tmp:
        progress, close = _progress_bars(sys.stderr.isatty() and not args.json)
        try:
            report = build_index([args.corpus], Path(tmp), embedder, progress=progress)
        finally:
            close()
        for err in report.errors:
            print(f"warning: {err.one_line()}", file=sys.stderr)
        searcher = Searcher(open_index(Path(tmp)), embedder)
        results = [evaluate(searcher, queries, mode) for mode in modes]
        searcher.close()
    if args.json:
        for r in results:
            _out(
                {
                    "corpus": args.corpus,
                    "queries_file": args.queries,
                    "model": embedder.name,
                    "passages": report.passages,
                    **r.to_dict(),
                }
            )
        return 0
    print(f"{report.passages} passages, {len(queries)} queries, model {embedder.name}\n")
    print(
        f"{'mode':<8} {'nDCG@10':>8} {'MRR@10':>8} {'R@10':>7} {'R@100':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8}"
    )
    for r in results:
        print(
            f"{r.mode:<8} {r.ndcg_at_10:>8.4f} {r.mrr_at_10:>8.4f} {r.recall_at_10:>7.4f} "
            f"{r.recall_at_100:>7.4f} {r.latency_p50_ms:>8.1f} {r.latency_p95_ms:>8.1f}"
        )
    return 0


def cmd_related(args: argparse.Namespace) -> int:
    searcher = Searcher.open(args.index, model=args.model)
    _print_hits(searcher.related(args.passage_id, k=args.k, filters=_filters(args)), args.json)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    searcher = Searcher.open(args.index, model=args.model)
    info = searcher.info().to_dict()
    topics = searcher.facet("topic")
    if args.json:
        _out(
            {
                **info,
                "topics": dict(topics),
                "sources": [d["source"] for d in searcher.documents()],
            }
        )
        return 0
    for key, value in info.items():
        print(f"{key:>14}: {value}")
    if topics:
        print(
            f"{'topics':>14}: "
            + ", ".join(f"{t} ({n})" for t, n in topics[:12])
            + (" …" if len(topics) > 12 else "")
        )
    documents = searcher.documents()
    print(
        f"{'sources':>14}: "
        + ", ".join(f"{d['source']} ({d['passages']})" for d in documents[:20])
        + (f" … and {len(documents) - 20} more" if len(documents) > 20 else "")
    )
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    # Locate the page module without importing it: importing would render the page.
    spec = importlib.util.find_spec("app")
    if spec is None or not spec.origin:
        raise CounselSearchError(
            "the page module app.py is not installed", "reinstall with: pip install -e ."
        )
    env = dict(os.environ)
    if args.index:
        env[ENV_INDEX] = str(Path(args.index).resolve())
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        spec.origin,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--server.maxUploadSize",
        str(MAX_UPLOAD_MB),
    ]
    if args.address:
        cmd += ["--server.address", args.address]
    os.execvpe(cmd[0], cmd, env)
    return 0  # not reached


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="counsel-search",
        description="Semantic search over counseling question-and-answer texts.",
        epilog="Example:\n  counsel-search build data/corpus/\n"
        '  counsel-search search "can I trust my therapist?"\n\n' + EPILOG_INDEX,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, example: str, func: Callable[[argparse.Namespace], int]):
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            epilog=f"Example:\n  {example}\n\n{EPILOG_INDEX}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    def index_opts(p: argparse.ArgumentParser, model_help: str) -> None:
        p.add_argument("--index", metavar="DIR", help="index directory (see below)")
        p.add_argument("--model", metavar="NAME_OR_PATH", default=None, help=model_help)

    def source_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "sources",
            nargs="+",
            metavar="SOURCE",
            help="files or folders (.txt .md .html .csv .jsonl)",
        )
        p.add_argument("--question-col", metavar="NAME", help="CSV/JSONL question column")
        p.add_argument("--answer-col", metavar="NAME", help="CSV/JSONL answer column")

    def json_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON object a line")

    def query_opts(p: argparse.ArgumentParser, modes: bool = True) -> None:
        p.add_argument("-k", type=int, default=10, metavar="N", help="number of results (10)")
        if modes:
            p.add_argument(
                "--mode",
                choices=MODES,
                default=DEFAULT_MODE,
                help=f"ranking: hybrid (dense + BM25 fused), dense or lexical "
                f"(default {DEFAULT_MODE})",
            )
        p.add_argument("--topic", action="append", metavar="T", help="only this topic (repeatable)")
        p.add_argument(
            "--source",
            action="append",
            metavar="S",
            help="only this source file path or name (repeatable)",
        )
        json_opt(p)

    p = add(
        "passages",
        "Show the passages a build would make, without embedding.",
        "counsel-search passages data/corpus/000_6fe00c9fba106d10.txt --json",
        cmd_passages,
    )
    source_opts(p)
    json_opt(p)

    model_help = (
        f"sentence-transformers model name or folder (default: the index's own model, else "
        f"{DEFAULT_MODEL}, packaged; nothing is downloaded)"
    )
    p = add(
        "build",
        "Make the index hold exactly these sources; only new or changed text is embedded.",
        "counsel-search build data/corpus/ --index /tmp/my-index",
        cmd_build,
    )
    source_opts(p)
    index_opts(p, model_help)
    json_opt(p)

    p = add(
        "add",
        "Add files (or re-read changed ones) to the current index; the rest stays as it is.",
        "counsel-search add new-articles/ my-notes.md --index /tmp/my-index",
        cmd_add,
    )
    source_opts(p)
    index_opts(p, model_help)
    json_opt(p)

    p = add(
        "remove",
        "Drop documents (by source path or file name) from the current index.",
        "counsel-search remove my-notes.md --index /tmp/my-index",
        cmd_remove,
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="source paths or file names")
    index_opts(p, model_help)
    json_opt(p)

    p = add(
        "search",
        "Rank passages for a free-text question.",
        'counsel-search search "can I trust a therapist who acts like he knows everything?" '
        "-k 5 --topic counseling-fundamentals",
        cmd_search,
    )
    p.add_argument("query", help="the question, in your own words")
    index_opts(p, "model to search with (default: the one that built the index)")
    query_opts(p)

    p = add(
        "related",
        "Passages nearest to a given passage.",
        "counsel-search related p1a2b3c4d5e6f7a8 -k 5",
        cmd_related,
    )
    p.add_argument("passage_id", help="a passage id, as printed by search")
    index_opts(p, "model (default: the one that built the index)")
    query_opts(p, modes=False)

    p = add(
        "eval",
        "Measure ranking quality: build a temporary index of a judged corpus, run its queries, "
        "print nDCG@10, MRR@10, Recall@10, Recall@100 and query latency p50/p95.",
        "counsel-search eval --corpus ../shared/bench/cc_title_to_answer/corpus.jsonl "
        "--queries ../shared/bench/cc_title_to_answer/queries.dev.jsonl --mode all",
        cmd_eval,
    )
    p.add_argument(
        "--corpus",
        required=True,
        metavar="CORPUS.jsonl",
        help="passages: {id, question, answer, ...} a line; ids are kept",
    )
    p.add_argument(
        "--queries",
        required=True,
        metavar="QUERIES.jsonl",
        help="{qid, query, relevant_ids} a line",
    )
    p.add_argument(
        "--mode",
        choices=[*MODES, "all"],
        default=DEFAULT_MODE,
        help=f"ranking mode to measure, or all (default {DEFAULT_MODE})",
    )
    p.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        default=None,
        help=f"model to build and search with (default {DEFAULT_MODEL})",
    )
    json_opt(p)

    p = add(
        "info",
        "Facts about an index: model, counts, build time, topics.",
        "counsel-search info --index /tmp/my-index",
        cmd_info,
    )
    index_opts(p, "model (default: the one that built the index)")
    json_opt(p)

    p = add(
        "app",
        "Start the search page (Streamlit) on an index.",
        "counsel-search app --index /tmp/my-index --port 8501",
        cmd_app,
    )
    p.add_argument("--index", metavar="DIR", help="index directory (see below)")
    p.add_argument("--port", type=int, default=8501, help="port (8501)")
    p.add_argument(
        "--address", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, run, turn library errors into one line on stderr and exit 1."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except CounselSearchError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the published index is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
