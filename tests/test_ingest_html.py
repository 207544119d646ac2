"""Broken HTML: script and style never become text; broken comments and tags lose nothing else."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest.markup import html_to_text
from ingest.text import normalize_text

# -- script and style --------------------------------------------------------------------------

_HTML_PIECES = st.sampled_from(
    ["<p>", "</p>", "<div>", "</div>", "<h2>", "</h2>", "<li>", "<ul>", "</ul>", "<pre>", "</pre>",
     "<b>", "</b>", "</i></p></div>", "<p class=x>", "<p class='x'>", "<br/>", "<table><tr><td>",
     "<title>", "</title>", "<svg>", "</svg>", "<noscript>", "<select>", "<textarea>", "</span>",
     "<!--", "-->", "<!-->", "<!--->", "--!>", "<?x ?>", "<! bogus >", "<!DOCTYPE html>", "]]>",
     ">", "< ", "'", '"', "&amp;", "&#0;", "&bogus;", " ", "\n", "text", "What is it?"]
)  # fmt: skip
_SECRETS = st.sampled_from(
    ["<script>SECRET</script>", "<style>SECRET</style>", "<SCRIPT type=x>SECRET</SCRIPT >",
     "<script>document.write('<p>SECRET</p>'); if (a<b) {}</script>", "<script>SECRET",
     "<style media=x>SECRET", "<script>SECRET </scrip></script>", "<style>/*SECRET*/</style\n>"]
)  # fmt: skip


@settings(max_examples=300)
@given(st.lists(st.one_of(_HTML_PIECES, _SECRETS), max_size=30))
@example(["<p>a</p>", "<!--", "<script>SECRET</script>", "<p>b</p>"])  # unclosed comment
def test_script_and_style_never_become_text(pieces: list[str]) -> None:
    # Broken markup that swallows the next tag ("<b", "</ ", "<![CDATA[") is left out: after it
    # a browser, too, shows "<script>" as text and not as a script.
    title, text = html_to_text("".join(pieces))
    assert "SECRET" not in title + text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a</p><!-- never closed <p>b</p>", "a"),
        ("<p>a</p><!-->b<!--->c", "a\n\nbc"),  # comments that close at once
        ("<p>a</p><!-- x --!><p>b</p>", "a\n\nb"),
        ("<p>a</p><?php echo 1", "a"),
        ("<p>a<p class='x>b", "a<p class='x>b"),  # an unclosed quote: kept as text, not lost
    ],
)
def test_broken_comments_and_tags(html: str, text: str) -> None:
    assert normalize_text(html_to_text(html)[1]) == text
