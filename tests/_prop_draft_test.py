"""Draft property for the splitter."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest import parse_document, split_document
from ingest import split as splitter
from ingest.lines import BLANK, classify, is_toc_entry, is_toc_header, key, strip_answer_marker
from ingest.split import MAX_PARAGRAPH_CHARS
from ingest.text import normalize_text

WORDS = st.sampled_from(
    ["stress", "What", "is", "therapy", "A:", "Q:", "1.", "-", "**", "#", "##", "Contents",
     "Table of Contents", "....", "12", "?", ".", "[link](url)", "\\#", "===", "---", "```",
     "é", "e\u0301", "\u00a0", "\t", "\u200b", "😀", "中文", "عربى"]
)
PHRASE = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
LINE = st.one_of(
    st.text(max_size=60),
    PHRASE,
    PHRASE.map(lambda s: s + "?"),
    PHRASE.map(lambda s: "## " + s),
    PHRASE.map(lambda s: "Q: " + s + "?"),
    PHRASE.map(lambda s: "A: " + s),
    st.sampled_from(["", " ", "Contents", "Table of Contents:", "Intro ...... 3", "***", "----"]),
    st.integers(1, 4000).map(lambda n: "x" * n),
    st.integers(1, 900).map(lambda n: "word " * n),
    st.integers(1, 300).map(lambda n: "One sentence here. " * n),
)
SEPARATORS = st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\x0c", "\n\n"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    pool = draw(st.lists(LINE, min_size=1, max_size=8))
    picks = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=25))
    out = ""
    for line in picks:
        out += line + draw(SEPARATORS)
    return out


def body_expectation(doc) -> tuple[list[str], list]:
    kind = doc.metadata["kind"]
    lines = classify(normalize_text(doc.text), markdown=kind in ("md", "html"), setext=kind == "md")
    kept = splitter._drop_toc(splitter._drop_title(lines, doc.title))
    kept_ids = {id(line) for line in kept}
    dropped = [ln for ln in lines if id(ln) not in kept_ids and ln.kind != BLANK]
    expected: list[str] = []
    first_answer_line = False
    for line in kept:
        if line.kind == BLANK:
            continue
        if line.starts_passage:
            expected.append(line.question)
            first_answer_line = True
            continue
        text = line.text
        if first_answer_line:
            text = strip_answer_marker(text)
            first_answer_line = False
        expected.append(text)
    return expected, dropped


@settings(max_examples=5000, deadline=None)
@given(documents(), st.sampled_from(["txt", "md", "html"]))
def test_nothing_lost(raw: str, kind: str) -> None:
    doc = parse_document(f"doc.{kind}", raw, kind)
    passages = split_document(doc)
    expected, dropped = body_expectation(doc)
    for line in dropped:
        k = key(line.question or line.text)
        assert k == key(doc.title) or is_toc_header(line.text) or is_toc_entry(line), line
    out = [t for p in passages for t in (p.question, p.answer) if t]
    flat_out = "".join("".join(out).split())
    flat_exp = "".join("".join(expected).split())
    assert flat_out == flat_exp
    longest = max((len(w) for t in expected for w in t.split()), default=0)
    if longest < MAX_PARAGRAPH_CHARS // 2:
        assert " ".join(out).split() == " ".join(expected).split()
        stream = " ".join(" ".join(out).split())
        pos = 0
        for line in expected:
            norm = " ".join(line.split())
            if not norm:
                continue
            found = stream.find(norm, pos)
            assert found >= 0, (norm, stream[pos : pos + 200])
            pos = found + len(norm)
    for p in passages:
        if not p.question:
            assert len(p.answer) <= MAX_PARAGRAPH_CHARS
