"""The `counsel-search` command: a thin face over the index and search stages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from cli.commands import (
    cmd_add,
    cmd_app,
    cmd_build,
    cmd_eval,
    cmd_info,
    cmd_map,
    cmd_passages,
    cmd_related,
    cmd_remove,
    cmd_search,
    cmd_serve,
    cmd_themes,
)
from index import DEFAULT_MODEL
from index.backends import BACKENDS, ENV_BACKEND, ENV_MILVUS_URI
from index.publish import ENV_INDEX
from ingest import CounselSearchError
from search import DEFAULT_MODE, MODES
from search.explore import METHODS

EPILOG_INDEX = (
    f"The index directory defaults to ${ENV_INDEX}, else ~/.local/share/counsel-search/index."
)


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
            help="files or folders (.txt .md .html .csv .jsonl .pdf .docx)",
        )
        p.add_argument("--question-col", metavar="NAME", help="CSV/JSONL question column")
        p.add_argument("--answer-col", metavar="NAME", help="CSV/JSONL answer column")

    def backend_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--backend",
            choices=BACKENDS,
            default=None,
            help=f"where the vectors go: faiss (a file in the index, default) or milvus (a "
            f"Milvus server or cluster); default: ${ENV_BACKEND}, else the index's own",
        )
        p.add_argument(
            "--milvus-uri",
            metavar="URI",
            default=None,
            help=f"Milvus server address, e.g. http://127.0.0.1:19530 (default: "
            f"${ENV_MILVUS_URI}, else the one the index was built with)",
        )

    def json_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON object a line")

    def output_opts(p: argparse.ArgumentParser, rows: str) -> None:
        # --json prints the command's own objects; --format writes export rows with provenance
        # (index version, model, query) for a spreadsheet or a later comparison.
        group = p.add_mutually_exclusive_group()
        group.add_argument("--json", action="store_true", help="print one JSON object a line")
        group.add_argument(
            "--format",
            choices=("csv", "jsonl"),
            help=f"write {rows} as CSV or JSON lines, each with the index version and model",
        )

    def query_opts(p: argparse.ArgumentParser, modes: bool = True, rows: str = "") -> None:
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
        output_opts(p, rows)

    p = add(
        "passages",
        "Show the passages a build would make, without embedding.",
        "counsel-search passages data/corpus/000_6fe00c9fba106d10.txt --json",
        cmd_passages,
    )
    source_opts(p)
    json_opt(p)

    model_help = (
        f"a bundled model (minilm, mpnet, bge-small) or pair (minilm+bge, mpnet+bge), or a "
        f"sentence-transformers model folder (default: the index's own model, else "
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
    backend_opts(p)
    json_opt(p)

    p = add(
        "add",
        "Add files (or re-read changed ones) to the current index; the rest stays as it is.",
        "counsel-search add new-articles/ my-notes.md --index /tmp/my-index",
        cmd_add,
    )
    source_opts(p)
    index_opts(p, model_help)
    backend_opts(p)
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
    query_opts(p, rows="the hits")

    p = add(
        "related",
        "Passages nearest to a given passage.",
        "counsel-search related p1a2b3c4d5e6f7a8 -k 5",
        cmd_related,
    )
    p.add_argument("passage_id", help="a passage id, as printed by search")
    index_opts(p, "model (default: the one that built the index)")
    query_opts(p, modes=False, rows="the related passages")

    p = add(
        "themes",
        "Group the whole index into themes (k-means on passage vectors), each named by its most "
        "distinctive words and its most central question.",
        "counsel-search themes --k 12 --index /tmp/my-index",
        cmd_themes,
    )
    p.add_argument(
        "--k",
        type=int,
        default=None,
        metavar="K",
        help="number of themes (default: round(sqrt(passages / 2)), 2 to 30)",
    )
    p.add_argument("--index", metavar="DIR", help="index directory (see below)")
    output_opts(p, "every passage with its theme")

    p = add(
        "map",
        "Write 2-D map coordinates of every passage as CSV (id,x,y,topic,source,question); "
        "computed once per index version, then read from the index folder.",
        "counsel-search map --method pca --out map.csv --index /tmp/my-index",
        cmd_map,
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="auto",
        help="projection: umap (needs umap-learn, 50+ passages), pca, or auto (umap when it "
        "can, else pca)",
    )
    p.add_argument("--index", metavar="DIR", help="index directory (see below)")
    p.add_argument("--out", metavar="FILE.csv", help="write the CSV here (default: stdout)")

    p = add(
        "eval",
        "Measure ranking quality: build a temporary index of a judged corpus (passages with ids, "
        "or a folder of documents read as `build` reads them), run its queries, print nDCG@10, "
        "MRR@10, Recall@10, Recall@100 and query latency p50/p95.",
        "counsel-search eval --docs data/bench_sample/articles/docs "
        "--queries data/bench_sample/articles/queries.dev.jsonl --mode all",
        cmd_eval,
    )
    corpus = p.add_mutually_exclusive_group(required=True)
    corpus.add_argument(
        "--corpus",
        metavar="CORPUS.jsonl",
        help="passages: {id, question, answer, ...} a line; ids are kept",
    )
    corpus.add_argument(
        "--docs",
        metavar="DIR",
        help="documents (any supported files, e.g. Q&A articles), split as `build` splits them",
    )
    p.add_argument(
        "--queries",
        required=True,
        metavar="QUERIES.jsonl",
        help="{qid, query, relevant_ids} a line (with --corpus), or {qid, query, relevant: "
        "[{source: FILE NAME, question: TEXT}]} naming passages by file and question",
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

    p = add(
        "serve",
        "Serve the HTTP JSON API (POST /v1/search, GET /v1/passages/ID, /v1/info; docs at "
        "/docs); a newly published index version is picked up without a restart.",
        "counsel-search serve --index /tmp/my-index --port 8000 "
        "--cors-origin https://clinic.example",
        cmd_serve,
    )
    p.add_argument("--index", metavar="DIR", help="index directory (see below)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (8000)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes, each with its own model in memory (1)",
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        metavar="URL",
        help="a web origin whose pages may call the API from a browser, e.g. "
        "https://clinic.example (repeatable; none by default)",
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
