"""The results under the crisis notice, measured: for each phrasing of tests/data/
crisis_phrasings.txt, does the top 3 hold a passage about suicidal thoughts, self-harm or getting
help now? Before: the question's own ranking (`Searcher.search`); after: the page's
(`search.support.search_with_support`, supportive passages first when the crisis check fires).

    .venv/bin/python -m benchmarks.crisis_results --index DIR     # an index of data/corpus/

Without --index, the bundled corpus is indexed into a temporary folder first (a few minutes).

"About" is judged by a transparent rule, not by the model: the bundled corpus's topic metadata
has no suicide or self-harm topic (its 30 topics put such answers under depression, trauma,
anxiety...), so a passage counts when its question or answer names the subject (ABOUT_CRISIS:
suicide, self-harm, killing or hurting oneself, wanting to die, a crisis line or emergency).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import CORPUS, ROOT, command_line, table
from ingest import Passage
from search import Searcher
from search.safety import read_bank
from search.support import search_with_support

PHRASINGS = ROOT / "tests" / "data" / "crisis_phrasings.txt"
TOP = 3
ABOUT_CRISIS = re.compile(
    r"suicid|self[- ]?harm|self[- ]?injur|\bkill(?:ing|ed)? (?:my|your|him|her|them)sel"
    r"|\b(?:end|ending|take|taking) (?:my|your|his|her|their) (?:own )?li(?:fe|ves)"
    r"|\bwant(?:s|ed)? to die\b|\bcut(?:s|ting)? (?:my|your|him|her|them)sel"
    r"|\bhurt(?:ing|s)? (?:my|your|him|her|them)sel|\blifeline\b|\bhotline\b"
    r"|\bcrisis (?:line|text|center|centre|team)|\b(?:988|911)\b|\bemergency room\b",
    re.IGNORECASE,
)


def about_crisis(passage: Passage) -> bool:
    """Whether a passage is about suicidal thoughts, self-harm or getting help now (the rule in
    the module docstring)."""
    return bool(ABOUT_CRISIS.search(f"{passage.question}\n{passage.answer}"))


def phrasings(path: Path = PHRASINGS) -> list[str]:
    """The crisis phrasings, one a line, comments and blank lines left out."""
    return read_bank(path)[""]


def share_supported(searcher: Searcher, queries: Sequence[str], support: bool) -> float:
    """Share of queries whose top TOP holds a passage about_crisis, with or without the
    supportive results."""
    good = 0
    for q in queries:
        if support:
            hits = search_with_support(searcher, q, k=TOP, explain=False).hits
        else:
            hits = searcher.search(q, k=TOP, explain=False)
        good += any(about_crisis(h.passage) for h in hits)
    return good / len(queries) if queries else 0.0


def main() -> None:
    parser = command_line("benchmarks.crisis_results", __doc__)
    parser.add_argument("--index", type=Path, help="an index of the bundled corpus")
    args = parser.parse_args()
    queries = phrasings()
    with tempfile.TemporaryDirectory(prefix="counsel-crisis-") as tmp:
        index_dir = args.index
        if index_dir is None:
            from index import build_index, load_embedder

            index_dir = Path(tmp) / "index"
            build_index([CORPUS], index_dir, load_embedder())
        searcher = Searcher.open(index_dir)
        fired = sum(searcher.needs_crisis_notice(q) for q in queries)
        before = share_supported(searcher, queries, support=False)
        after = share_supported(searcher, queries, support=True)
        passages = searcher.info().passages
        searcher.close()
    print(
        "\n".join(
            table(
                ["ranking", f"top {TOP} holds a supportive passage"],
                [
                    ["the question's own words (before)", f"{before:.0%}"],
                    ["supportive passages first (after)", f"{after:.0%}"],
                ],
            )
        )
    )
    print(
        f"\n{len(queries)} phrasings ({PHRASINGS.name}), crisis notice on {fired}; "
        f"{passages} passages"
    )


if __name__ == "__main__":
    main()
