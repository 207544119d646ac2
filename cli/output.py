"""Terminal output of the CLI: JSON lines, hits as text, progress bars."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest import CounselSearchError
from search import WEAK_NOTE, Hit, Themes


def emit_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def progress_bars(
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
        # The pages of one PDF: a bar under the files' bar, gone when the file is read.
        nested = stage.startswith("pages ")
        if bar is None:
            if not nested:
                for earlier in bars.values():  # one bar at a time: the previous stage is done
                    earlier.close()
            desc, unit = labels.get(stage, (stage, " pages" if nested else ""))
            bar = bars[stage] = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                leave=not nested,
                position=1 if nested else None,
                ncols=width,
                nrows=height,
            )
        bar.update(done - bar.n)
        if nested and done >= total:
            bar.close()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def filters_of(args: argparse.Namespace) -> dict[str, list[str]]:
    return {"topic": args.topic or [], "source": args.source or []}


def print_hits(hits: list[Hit], as_json: bool, query: str | None = None) -> None:
    if as_json:
        for hit in hits:
            emit_json(hit.to_dict())
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


def print_themes(themes: Themes, as_json: bool, passages: int) -> None:
    """Each theme: number, size, label terms, central question, top topics (or one JSON a line)."""
    if as_json:
        for t in themes.themes:
            emit_json(
                {
                    "cluster": t.cluster,
                    "size": t.size,
                    "label": t.label,
                    "terms": list(t.terms),
                    "central_id": t.central_id,
                    "central_question": t.central_question,
                    "by_topic": dict(t.by_topic),
                    "by_source": dict(t.by_source),
                    "k": themes.k,
                    "rule": themes.rule,
                    "index_version": themes.version,
                }
            )
        return
    print(f"{themes.k} themes of {passages} passages ({themes.rule})\n")
    for t in themes.themes:
        print(f"{t.cluster:>2}. {t.label or '(no distinctive words)'}  [{t.size} passages]")
        if len(t.terms) > 3:
            print(f"    also: {', '.join(t.terms[3:])}")
        central = " ".join((t.central_question or t.central_answer[:120]).split())
        print(f"    central: {central}  (id {t.central_id})")
        topics = ", ".join(f"{name} ({n})" for name, n in t.by_topic[:5])
        print(f"    topics: {topics}" + (" …" if len(t.by_topic) > 5 else ""))
        print()


def write_text(text: str, out: str | None) -> None:
    """Write to a file, or to stdout when no file is given."""
    if not out:
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CounselSearchError(
            f"cannot write {out}: {exc.strerror or exc}", "choose another --out path"
        ) from exc
