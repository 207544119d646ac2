"""The CLI commands: each a thin call into index/ or search/, printing the result."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

from cli.output import emit_json, filters_of, print_hits, print_themes, progress_bars, write_text
from index import (
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
from search import MODES, Searcher
from search.evaluate import evaluate, load_queries, resolve
from search.explore import corpus_map, themes, umap_available
from search.export import MAP_FIELDS, hit_rows, map_rows, theme_rows, to_csv, to_jsonl
from search.safety import CRISIS_NOTE


def cmd_passages(args: argparse.Namespace) -> int:
    result = read_sources(args.sources, question_col=args.question_col, answer_col=args.answer_col)
    for err in result.errors:
        print(f"warning: {err.one_line()}", file=sys.stderr)
    for p in result.passages:
        if args.json:
            emit_json(p.to_dict())
        else:
            print(f"{p.id}  {Path(p.source).name}#{p.position}  {p.question or p.answer[:80]}")
    if not args.json:
        print(
            f"{len(result.passages)} passages from {len(result.files)} "
            f"document{'s' * (len(result.files) != 1)}",
            file=sys.stderr,
        )
    if not result.errors:
        return 0
    return 3 if result.passages else 1


def _update(args: argparse.Namespace, action: str) -> int:
    """build, add and remove: run the update, print what it did."""
    index_dir = Path(args.index) if args.index else default_index_dir()
    embedder = load_embedder(args.model or _model_of(index_dir))
    progress, close = progress_bars(sys.stderr.isatty() and not args.json)
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
                backend=args.backend,
                milvus_uri=args.milvus_uri,
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
        emit_json(
            {
                "index": str(report.index_dir),
                "version": report.version,
                "documents": report.documents,
                "passages": report.passages,
                "vectors": report.vectors,
                "embedded": report.embedded,
                "seconds": round(report.seconds, 3),
                "published": report.published,
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
        done = "Published" if report.published else "Nothing changed: kept"
        print(
            f"{done} {report.index_dir} (version {report.version}): {report.documents} "
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
    filters = filters_of(args)
    if searcher.needs_crisis_notice(args.query):
        # On stderr, so --json and --format output stay machine-readable; a person sees it first.
        print(f"notice: {CRISIS_NOTE}", file=sys.stderr)
    if args.format:
        # Export rows carry no sentence explanations, so skip computing them.
        hits = searcher.search(args.query, k=args.k, filters=filters, mode=args.mode, explain=False)
        rows = hit_rows(hits, searcher=searcher, query=args.query, mode=args.mode)
        return _export(rows, args.format)
    hits = searcher.search(args.query, k=args.k, filters=filters, mode=args.mode)
    print_hits(hits, args.json, args.query)
    return 0


def _export(rows: list[dict], fmt: str) -> int:
    """Write export rows to stdout as CSV or JSON lines."""
    sys.stdout.write(to_csv(rows) if fmt == "csv" else to_jsonl(rows))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    judged = load_queries(args.queries)
    embedder = load_embedder(args.model)
    modes = list(MODES) if args.mode == "all" else [args.mode]
    corpus = args.docs or args.corpus
    with tempfile.TemporaryDirectory(prefix="counsel-eval-") as tmp:
        progress, close = progress_bars(sys.stderr.isatty() and not args.json)
        try:
            report = build_index([corpus], Path(tmp), embedder, progress=progress)
        finally:
            close()
        for err in report.errors:
            print(f"warning: {err.one_line()}", file=sys.stderr)
        searcher = Searcher(open_index(Path(tmp)), embedder)
        queries, unmatched = resolve(judged, searcher.version.passages)
        if unmatched:
            print(
                f"warning: {args.queries}: {unmatched} relevant passages match no passage of "
                "the index (by file name and question); they count as misses",
                file=sys.stderr,
            )
        results = [evaluate(searcher, queries, mode) for mode in modes]
        searcher.close()
    if args.json:
        for r in results:
            emit_json(
                {
                    "corpus": corpus,
                    "queries_file": args.queries,
                    "model": embedder.name,
                    "passages": report.passages,
                    **r.to_dict(),
                }
            )
        return 0
    print(f"{report.passages} passages, {len(queries)} queries, model {embedder.name}")
    # The settings the figures come from (the JSON lines carry them under "ranking").
    print(f"ranking: {results[0].ranking.summary()}\n")
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
    hits = searcher.related(args.passage_id, k=args.k, filters=filters_of(args))
    if args.format:
        # The same rows as step 0 of a related-passage walk (search.export.walk_rows).
        rows = hit_rows(
            hits,
            searcher=searcher,
            query=f"related:{args.passage_id}",
            mode="dense",
            kind="related",
            step=0,
            from_id=args.passage_id,
        )
        return _export(rows, args.format)
    print_hits(hits, args.json)
    return 0


def cmd_themes(args: argparse.Namespace) -> int:
    if args.k is not None and args.k < 1:
        raise CounselSearchError(
            f"--k must be at least 1, not {args.k}", "e.g. counsel-search themes --k 8"
        )
    searcher = Searcher.open(args.index)
    found = themes(searcher, k=args.k)
    if args.format:
        return _export(theme_rows(searcher, found), args.format)
    print_themes(found, args.json, searcher.version.manifest.passages)
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    searcher = Searcher.open(args.index)
    found = corpus_map(searcher, args.method)
    text = to_csv(map_rows(searcher, found), MAP_FIELDS)
    write_text(text, args.out)
    how = "loaded from the index's cache" if found.from_cache else "computed"
    note = ""
    if args.method == "auto" and found.method == "pca" and not umap_available():
        note = '; for a UMAP map: pip install -e ".[umap]"'
    print(
        f"map: {found.method}, {how}, {len(found.ids)} passages of index version "
        f"{found.version}" + (f", written to {args.out}" if args.out else "") + note,
        file=sys.stderr,
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    searcher = Searcher.open(args.index, model=args.model)
    info = searcher.info().to_dict()
    topics = searcher.facet("topic")
    if args.json:
        emit_json(
            {
                **info,
                "topics": dict(topics),
                "sources": [d["source"] for d in searcher.documents()],
            }
        )
        return 0
    for key, value in info.items():
        if key == "update_seconds":
            continue  # told with the build time, below
        if key == "build_seconds":
            # An add or remove keeps the full build's time; its own time is told apart.
            value = f"built in {value:.1f} s (the last full build)"
            if info["update_seconds"] and info["update_seconds"] != info["build_seconds"]:
                value += f"; last update took {info['update_seconds']:.1f} s"
        print(f"{key:>14}: {'; '.join(value) if isinstance(value, list | tuple) else value}")
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


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the HTTP JSON API (api/) until interrupted."""
    # Imported here: only this command needs the web framework.
    from api import serve

    serve(
        args.index,
        host=args.host,
        port=args.port,
        workers=args.workers,
        cors_origins=args.cors_origin or [],
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
    # `streamlit run` of the page, with the index and model loading while the server starts
    # (ui/launch.py).
    cmd = [
        sys.executable,
        "-m",
        "ui.launch",
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
        # The watcher walks the whole tree at start (seconds of the first answer) and the
        # installed page never changes while it runs.
        "--server.fileWatcherType",
        "none",
    ]
    if args.address:
        cmd += ["--server.address", args.address]
    os.execvpe(cmd[0], cmd, env)
    return 0  # not reached
