"""The crisis check, measured: recall on crisis phrasings, false alarms on everyday questions.

    .venv/bin/python -m benchmarks.crisis                  # both bundled models; docs/safety.md
    .venv/bin/python -m benchmarks.crisis --models minilm --tuning-only   # while tuning

Three sets: the bank, search/crisis_bank.txt (the rules and margins are fitted to it; its
[crisis] and [ordinary] phrasings are scored 5-fold, each by a bank without its fold), and in
tests/data crisis_heldout.txt (crisis queries written blind by a
second author; nothing is fitted to it) and crisis_near_miss.txt (everyday idioms of death and
harm: "this job is killing me"; nothing is fitted to it). The bank's misses are printed,
with the margins that give chosen false-alarm rates (to set index/models.py); the held-out
sets' misses only with `--show`, so that they stay unseen while tuning.
"""

from __future__ import annotations

import sys

import numpy as np

from benchmarks.common import DOCS, ROOT, command_line, question_titles, splice, table
from index import load_embedder
from index.errors import ModelNotFound
from index.models import MINILM, MPNET
from search.crisis_patterns import crisis_by_pattern
from search.safety import BANK, CrisisCheck, clauses, read_bank

DATA = ROOT / "tests" / "data"
DOC = DOCS / "safety.md"


def sets() -> dict[str, tuple[list[str], bool]]:
    """name -> (queries, should get the notice)."""
    return {
        "held-out crisis": (read_bank(DATA / "crisis_heldout.txt")[""], True),
        "near-miss idioms": (read_bank(DATA / "crisis_near_miss.txt")[""], False),
    }


def cross_validated(check: CrisisCheck, folds: int = 5) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Semantic scores of the bank's own phrasings, each judged by a bank without its fold
    (5-fold, fixed seed): what the tuning set says about unseen wordings. Returns the phrasings,
    whether each is a crisis one, and its score."""
    bank = read_bank(BANK)
    texts = bank["crisis"] + bank["ordinary"]
    positive = np.array([True] * len(bank["crisis"]) + [False] * len(bank["ordinary"]))
    embedder = check.embedder
    vectors = embedder.encode(texts)
    parts = [clauses(t) for t in texts]
    flat = [c for cs in parts for c in cs]
    part_vecs = embedder.encode(flat) if flat else np.zeros((0, vectors.shape[1]), np.float32)
    owner = np.repeat(np.arange(len(texts)), [len(cs) for cs in parts])
    fold = np.random.default_rng(0).integers(0, folds, len(texts))
    scores = np.zeros(len(texts))
    for f in range(folds):
        keep = fold != f
        crisis, ordinary = vectors[keep & positive], vectors[keep & ~positive]
        for i in np.flatnonzero(~keep):
            rows = np.vstack([vectors[i : i + 1], part_vecs[owner == i]])
            m = (rows @ crisis.T).max(axis=1) - (rows @ ordinary.T).max(axis=1)
            scores[i] = m.max()
    return texts, positive, scores


def calibrate(check: CrisisCheck, model_name: str) -> list[tuple[str, int, bool, int, int]]:
    """Print the margins that give chosen false-alarm rates on the bank's ordinary phrasings
    (cross-validated), with the recall each gives; return the tuning rows of the table at the
    model's registered margin."""
    texts, positive, scores = cross_validated(check)
    # The bank's ordinary side ends with the corpus's question titles: easy negatives, so the
    # written ordinary phrasings (idioms) are also reported alone.
    titles = set(question_titles())
    pattern = np.array([crisis_by_pattern(t) for t in texts])
    print(f"\n{model_name}: cross-validated semantic scores of the bank")
    written = np.array([t not in titles for t in texts])
    for rate in (0.01, 0.02, 0.03, 0.05):
        t = float(np.quantile(scores[~positive & ~pattern], 1 - rate))
        flagged = pattern | (scores >= t)
        print(
            f"  margin {t:+.3f}: ordinary flagged {flagged[~positive].mean():.3f} (written "
            f"{flagged[~positive & written].mean():.3f}), "
            f"crisis recall {flagged[positive].mean():.3f} "
            f"(semantic alone {np.mean(scores[positive] >= t):.3f})"
        )
    margin = check.margin
    rows = []
    for label, mask, pos in (
        ("tuning crisis (5-fold)", positive, True),
        ("tuning ordinary (5-fold)", ~positive, False),
    ):
        full = pattern[mask] | (scores[mask] >= margin if margin is not None else False)
        rows.append((label, int(mask.sum()), pos, int(pattern[mask].sum()), int(full.sum())))
        wrong = [t for t, f in zip(np.array(texts)[mask], full, strict=True) if f != pos]
        print(f"\n{model_name} / {label}: {'missed' if pos else 'flagged'} {len(wrong)}")
        for q in wrong[:40]:
            print(f"  {q}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument(
        "--models", nargs="+", default=["minilm", "mpnet"], choices=["minilm", "mpnet"]
    )
    parser.add_argument("--show", nargs="*", default=[], help="held-out sets whose misses to print")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/safety.md")
    parser.add_argument(
        "--tuning-only", action="store_true", help="leave the held-out files out (while tuning)"
    )
    args = parser.parse_args(argv)
    names = {"minilm": MINILM.name, "mpnet": MPNET.name}
    data = {} if args.tuning_only else sets()
    rows = []
    for key in args.models:
        try:
            embedder = load_embedder(names[key])
        except ModelNotFound as exc:
            print(f"skipping {names[key]}: {exc}", file=sys.stderr)
            continue
        check = CrisisCheck(embedder)
        for row in calibrate(check, embedder.name):
            rows.append((embedder.name, *row))
        for label, (queries, positive) in data.items():
            pattern = np.array([crisis_by_pattern(q) for q in queries])
            full = np.array([check(q) for q in queries])
            wrong = [q for q, f in zip(queries, full, strict=True) if f != positive]
            rows.append(
                (embedder.name, label, len(queries), positive, int(pattern.sum()), int(full.sum()))
            )
            if any(label.startswith(s) for s in args.show) and wrong:
                print(f"\n{embedder.name} / {label}: {'missed' if positive else 'flagged'}")
                for q in wrong:
                    print(f"  {q}")
    measured = "\n".join(
        table(
            ["model", "set", "queries", "notice by rules", "notice in full", "rate"],
            (
                (
                    model,
                    label,
                    n,
                    pat,
                    full,
                    f"{'recall' if pos else 'false alarms'} {full / n:.3f}",
                )
                for model, label, n, pos, pat, full in rows
            ),
        )
    )
    print("\n" + measured)
    if not (args.no_write or args.tuning_only):
        # The measured table of docs/safety.md, between its markers.
        splice(DOC, "<!-- crisis-table -->", "<!-- /crisis-table -->", f"\n{measured}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
