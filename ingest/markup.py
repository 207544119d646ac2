"""Markup to splittable text: HTML through the standard library's parser, Markdown helpers.

HTML is reduced to Markdown-like text (headings as `#` lines, list items as `- ` lines), so that
one splitter serves Markdown and HTML alike. Page furniture (navigation, headers, footers,
scripts, forms) is dropped: it would otherwise turn up in every passage of a site.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose whole content is not article text.
_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "svg",
        "iframe",
        "object",
        "canvas",
        "select",
        "button",
        "dialog",
    }
)
# Elements that never have an end tag: they must not stay on the open-element stack.
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
# Block elements that end a line; the ones in _PARAGRAPH also leave a blank line after them.
_PARAGRAPH = frozenset(
    {"p", "blockquote", "pre", "ul", "ol", "dl", "table", "section", "article", "main", "figure"}
)
_BLOCK = _PARAGRAPH | frozenset(
    {
        "address",
        "body",
        "caption",
        "dd",
        "details",
        "div",
        "dt",
        "figcaption",
        "hr",
        "li",
        "summary",
        "tbody",
        "thead",
        "tfoot",
        "tr",
    }
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
# Marks the heading lines this module writes, to tell them from page text that starts with "#"
# (a private-use character: it never means anything in real text, and is removed from it).
_HEADING_MARK = "\ue000"
_WHITESPACE = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    """Collects the visible article text of an HTML page as Markdown-like lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.first_h1 = ""
        self._stack: list[str] = []  # open elements, to close skipped ones on a broken page
        self._title_parts: list[str] | None = None
        self._heading: tuple[int, list[str]] | None = None
        self._bullet_open = False  # a "- " was written and no text has followed yet

    # -- the open-element stack -------------------------------------------------------------

    @property
    def _skipping(self) -> bool:
        return any(tag in _SKIP for tag in self._stack)

    def _close(self, tag: str) -> None:
        """Close `tag` and everything opened inside it that was left unclosed."""
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    # -- parser callbacks ---------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        skipping = self._skipping
        if tag not in _VOID:
            self._stack.append(tag)
        if skipping or tag in _SKIP:
            return
        if self._title_parts is not None:
            self._end_title()  # a <title> holds no tags: an unclosed one ends at the next tag
        if tag == "title" and not self.title:
            self._title_parts = []
        elif tag in _HEADINGS:
            self._end_heading()
            self._heading = (_HEADINGS[tag], [])
        elif tag == "br":
            self._emit(" " if self._heading else "\n")
        elif tag in _BLOCK:
            # A heading cannot contain a block: an unclosed <h2> ends where the next block starts.
            self._end_heading()
            self._break(self._block_newlines(tag))
            if tag == "li":
                self.parts.append("- ")
                self._bullet_open = True
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        was_skipping = self._skipping
        self._close(tag)
        if was_skipping:
            if not self._skipping:
                self._break(1)  # the text around a dropped block must not run together
            return
        if tag == "title":
            self._end_title()
        elif tag in _HEADINGS:
            self._end_heading()
        elif tag in _BLOCK and tag != "li":
            # A list item ends where the next begins; a paragraph leaves a blank line.
            self._break(self._block_newlines(tag))

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._title_parts is not None:
            self._title_parts.append(data)
            return
        data = data.replace(_HEADING_MARK, "")
        if "pre" not in self._stack:
            # Outside <pre>, source line breaks and indentation are only word separators.
            data = _WHITESPACE.sub(" ", data)
        self._emit(data)

    # -- helpers ------------------------------------------------------------------------------

    def _block_newlines(self, tag: str) -> int:
        # Paragraphs inside a list item keep the list tight: one item, one line.
        return 2 if tag in _PARAGRAPH and "li" not in self._stack else 1

    def _break(self, newlines: int) -> None:
        """End the line (with 2, leave a blank line); breaks do not add up, so nested blocks
        (`<div><div><p>`) make one break, not a stack of blank lines."""
        if self._bullet_open:
            return  # `<li><p>text`: the text belongs on the bullet's line
        have = 0
        for part in reversed(self.parts):
            content = part.rstrip(" \n")
            have += part[len(content) :].count("\n")
            if content:
                break
        else:
            return  # nothing written yet: no break needed
        if have < newlines:
            self.parts.append("\n" * (newlines - have))

    def _emit(self, text: str) -> None:
        if text.strip():
            self._bullet_open = False
        if self._heading is not None:
            self._heading[1].append(text)
        else:
            self.parts.append(text)

    def _end_title(self) -> None:
        if self._title_parts is not None:
            self.title = " ".join("".join(self._title_parts).split())
            self._title_parts = None

    def _end_heading(self) -> None:
        if self._heading is None:
            return
        level, parts = self._heading
        self._heading = None
        text = " ".join("".join(parts).split())
        if text:
            if level == 1 and not self.first_h1:
                self.first_h1 = text
            self._break(2)
            self.parts.append(f"{_HEADING_MARK}{'#' * level} {text}")
            self._break(2)

    def close(self) -> None:
        """Finish the page, dropping an unclosed comment, CDATA section or declaration.

        HTMLParser hands such a construct to handle_data at the end, up to its first ">", and
        goes on from there: a stray "<!--" before a <script> would show the script as text.
        Browsers end an unclosed comment at the end of the page and the others at their ">".
        """
        while self.rawdata.startswith(("<!", "<?")):
            rest, self.rawdata = self.rawdata, ""
            end = rest.find(">")
            if rest.startswith("<!--") or end < 0:
                break
            self.feed(rest[end + 1 :])
        super().close()

    def text(self) -> str:
        self._end_heading()
        return "".join(self.parts)


# Comments browsers close at once ("<!-->", "<!--->") or end with "--!>"; HTMLParser would read
# on to the next "-->", or to the end of the page, and drop the text in between.
_ABRUPT_COMMENT = re.compile(r"<!---?>")
_BANG_COMMENT_END = re.compile(r"--!>")


_LITERAL_HASH = re.compile(r"^([ \t]*)#")


def html_to_text(html: str) -> tuple[str, str]:
    """Reduce an HTML page to `(title, text)`.

    The title is the page's <title>, else its first <h1>. The text has one block per line,
    headings as `#` lines and list items as `- ` lines; it is not yet normalized.
    Broken markup is tolerated: unclosed elements end with their parent.
    """
    parser = _TextExtractor()
    parser.feed(_BANG_COMMENT_END.sub("-->", _ABRUPT_COMMENT.sub("", html)))
    parser.close()
    lines = []
    for line in parser.text().split("\n"):
        if line.lstrip(" ").startswith(_HEADING_MARK):
            lines.append(line.lstrip(" ")[len(_HEADING_MARK) :])
        else:
            # Page text that starts with "#" is not a heading: escape it as Markdown does.
            lines.append(_LITERAL_HASH.sub(r"\1\\#", line, count=1))
    return parser.title or parser.first_h1, "\n".join(lines)


# -- Markdown -------------------------------------------------------------------------------

_ATX_HEADING = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FRONT_MATTER_TITLE = re.compile(r"""^title\s*:\s*["']?(.*?)["']?\s*$""", re.IGNORECASE)
# The link text may not hold "[" and the target may not hold "(" or ")" except one nested pair
# ("Foo_(bar)"): a scan that starts at one "[" then stops at the next, so a long line of
# brackets costs linear time, not quadratic.
_LINK = re.compile(r"!?\[([^\[\]]*)\]\((?:[^()]|\([^()]*\))*\)")
# The lookbehind starts a trailing run only at its first character: without it, every position
# of a long run of "*" or "_" mid-line would be retried to the end of the run.
_EMPHASIS_EDGES = re.compile(r"^[*_`]+|(?<![*_`])[*_`]+$")


def atx_heading(line: str) -> tuple[int, str] | None:
    """`(level, text)` when `line` is a Markdown `#` heading, else None."""
    match = _ATX_HEADING.match(line)
    if match is None:
        return None
    return len(match.group(1)), (match.group(2) or "").strip()


def split_front_matter(text: str) -> tuple[str, str]:
    """Split YAML front matter (`---` ... `---` at the very top) off Markdown text.

    Returns `(title, rest)`; the title is the front matter's `title:` value, if any. The rest of
    the front matter is page-generator configuration, not text.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return "", text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            title = ""
            for line in lines[1:end]:
                match = _FRONT_MATTER_TITLE.match(line.strip())
                if match:
                    title = match.group(1).strip()
                    break
            return title, "\n".join(lines[end + 1 :])
    return "", text


def clean_inline(text: str) -> str:
    """Drop Markdown link syntax and wrapping emphasis from a short line (a heading, a question)."""
    text = _LINK.sub(r"\1", text)
    return _EMPHASIS_EDGES.sub("", text.strip()).strip()
