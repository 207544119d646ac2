"""Splitting text, Markdown and HTML documents into question-and-answer passages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest import Document, content_id, doc_id_for, parse_document, split_document
from ingest.markup import html_to_text
from ingest.split import MAX_PARAGRAPH_CHARS, bound_paragraph, split_document_report

SEED = Path(__file__).resolve().parent.parent / "data" / "corpus" / "000_6fe00c9fba106d10.txt"

SEED_QUESTIONS = [
    "Why is it important for counselors to establish a trusting and safe therapeutic "
    "relationship with their client?",
    "What is psychotherapeutic relationship?",
    "What is psychotherapy resistance?",
    "How do you build trust in a therapeutic relationship?",
    "Can you trust your therapist if they know it all?",
    "Do you have to pay your therapist if you don’t want to see?",
    "Do therapists feel pressure to keep clients in treatment?",
]


def split(text: str, kind: str = "txt", source: str = "doc.txt") -> list[tuple[str, str]]:
    doc = parse_document(source, text, kind)
    return [(p.question, p.answer) for p in split_document(doc)]


def split_report(text: str, kind: str = "txt") -> tuple[list[tuple[str, str]], list[str]]:
    """The (question, answer) pairs and the questions left out for having nothing under them."""
    passages, unanswered = split_document_report(parse_document(f"doc.{kind}", text, kind))
    return [(p.question, p.answer) for p in passages], [u.question for u in unanswered]


def split_html(html: str) -> tuple[str, list[tuple[str, str]]]:
    title, text = html_to_text(html)
    doc = parse_document("page.html", text, "html", title=title)
    return doc.title, [(p.question, p.answer) for p in split_document(doc)]


# -- the seed article -------------------------------------------------------------------------


def test_seed_gives_its_seven_questions_in_order() -> None:
    doc = parse_document(SEED.name, SEED.read_text(encoding="utf-8"))
    passages = split_document(doc)
    assert [p.question for p in passages] == SEED_QUESTIONS


def test_seed_answers_are_whole() -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    passages = split_document(parse_document(SEED.name, "\n".join(lines)))
    # In the file every answer is the single line after its question (from line 4 on).
    assert [(p.question, p.answer) for p in passages] == list(
        zip(lines[2::2], lines[3::2], strict=True)
    )
    assert passages[0].answer.startswith(
        "Why is a Therapeutic Relationship Important? Establishing a therapeutic relationship"
    )
    assert passages[-1].answer.endswith("every client that walks into their office.")


def test_seed_title_is_metadata_and_ids_are_content_ids() -> None:
    doc = parse_document("data/seed.txt", SEED.read_text(encoding="utf-8"))
    assert doc.title == SEED_QUESTIONS[0]
    passages = split_document(doc)
    assert [p.position for p in passages] == list(range(7))
    for p in passages:
        assert p.id == content_id(p.question, p.answer)
        assert p.doc_id == doc_id_for("data/seed.txt")
        assert p.source == "data/seed.txt"
        assert p.sources == ("data/seed.txt",)
        assert p.metadata == {"title": SEED_QUESTIONS[0], "kind": "txt"}
    assert not any("Table of Contents" in p.question + p.answer for p in passages)


# -- titles -----------------------------------------------------------------------------------


def test_first_short_line_is_the_title_not_a_passage() -> None:
    doc = parse_document("a.txt", "Coping With Grief\n\nGrief comes in waves.\nIt passes.")
    assert doc.title == "Coping With Grief"
    assert [(p.question, p.answer) for p in split_document(doc)] == [
        ("", "Grief comes in waves.\nIt passes.")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Grief comes in waves.\nIt passes.",  # a sentence, not a title
        "Grief comes in waves. It passes\nAnd returns.",  # a sentence follows on the line
        "Just one line",  # a one-line document has no title
        "x" * 201 + "\nmore",  # too long
    ],
)
def test_no_title(text: str) -> None:
    doc = parse_document("a.txt", text)
    assert doc.title == ""
    joined = "\n".join(p.answer for p in split_document(doc))
    assert joined.replace("\n", "") == text.replace("\n", "")


def test_title_that_is_the_first_question_also_makes_its_passage() -> None:
    text = "What is anxiety?\nAnxiety is worry.\nWhat is panic?\nPanic is sudden fear."
    doc = parse_document("a.txt", text)
    assert doc.title == "What is anxiety?"
    assert split(text) == [
        ("What is anxiety?", "Anxiety is worry."),
        ("What is panic?", "Panic is sudden fear."),
    ]


# -- questions and answers --------------------------------------------------------------------


def test_answer_keeps_its_paragraphs_and_a_mid_line_question() -> None:
    text = (
        "Guide\n"
        "How do I start?\n"
        "Why start at all? Because it helps.\n"
        "Second line.\n\n"
        "Second paragraph.\n"
        "What next?\n"
        "Keep going."
    )
    assert split(text) == [
        (
            "How do I start?",
            "Why start at all? Because it helps.\nSecond line.\n\nSecond paragraph.",
        ),
        ("What next?", "Keep going."),
    ]


def test_question_followed_by_question_is_reported_not_a_passage() -> None:
    text = "Notes\nIs this normal?\nShould I worry?\nNo, it is common."
    assert split_report(text) == (
        [("Should I worry?", "No, it is common.")],
        ["Is this normal?"],
    )
    assert split(text) == [("Should I worry?", "No, it is common.")]


def test_question_recognition() -> None:
    text = (
        "Guide\n"
        "Q: Is it okay to cry in a session?\n"
        "A: Yes, therapists expect it.\n"
        "1. Will my therapist judge me?”\n"
        "No.\n"
        "Why?\n"  # a lone word is dialogue, not a question heading
        "Because that is their job.\n" + "Is this a very long line " + "that goes on " * 40 + "?\n"
        "The end."
    )
    passages = split(text)
    assert [q for q, _ in passages] == [
        "Is it okay to cry in a session?",
        "Will my therapist judge me?”",
    ]
    assert passages[0][1] == "Yes, therapists expect it."
    assert passages[1][1].startswith("No.\nWhy?\nBecause that is their job.\nIs this a very long")


def test_text_before_the_first_question_becomes_paragraph_passages() -> None:
    text = "Guide\nAn intro.\n\nA second intro paragraph.\nWhat is CBT?\nA therapy."
    assert split(text) == [
        ("", "An intro."),
        ("", "A second intro paragraph."),
        ("What is CBT?", "A therapy."),
    ]


# -- tables of contents -----------------------------------------------------------------------


def test_multi_entry_toc_is_skipped() -> None:
    text = (
        "A Guide to Starting Therapy\n"
        "Table of Contents\n"
        "What is therapy?\n"
        "How long does therapy take?\n"
        "Is therapy confidential?\n\n"
        "What is therapy?\n"
        "Therapy is a conversation with a trained professional.\n"
        "How long does therapy take?\n"
        "It depends on your goals.\n"
        "Is therapy confidential?\n"
        "Yes, with a few legal exceptions.\n"
    )
    assert split(text) == [
        ("What is therapy?", "Therapy is a conversation with a trained professional."),
        ("How long does therapy take?", "It depends on your goals."),
        ("Is therapy confidential?", "Yes, with a few legal exceptions."),
    ]


def test_toc_with_numbers_dot_leaders_and_blank_lines_names_the_sections() -> None:
    text = (
        "Handbook\n"
        "Contents:\n\n"
        "1. Introduction ........ 1\n\n"
        "2. What is burnout? .... 2\n\n"
        "Introduction\n"
        "This handbook is short.\n"
        "What is burnout?\n"
        "Exhaustion from long stress.\n"
    )
    # "Introduction" is listed in the contents: the body line repeating it starts a section.
    assert split_report(text) == (
        [
            ("Introduction", "This handbook is short."),
            ("What is burnout?", "Exhaustion from long stress."),
        ],
        [],
    )


def test_last_toc_entry_followed_by_its_answer_is_a_question() -> None:
    # As in the seed: the contents list ends with the first question, answered right there.
    text = (
        "FAQ\n"
        "Contents\n"
        "What is grief?\n"
        "How long does grief last?\n"
        "It varies from person to person.\n"
        "What is grief?\n"
        "A response to loss.\n"
    )
    assert split(text) == [
        ("How long does grief last?", "It varies from person to person."),
        ("What is grief?", "A response to loss."),
    ]


def test_contents_list_of_questions_ends_at_a_short_answer() -> None:
    text = "FAQ\nContents\nDoes therapy work?\nIt depends\nWhat is next?\nRest."
    assert split(text) == [("Does therapy work?", "It depends"), ("What is next?", "Rest.")]


def test_toc_entries_followed_by_entries_are_dropped_even_if_not_repeated() -> None:
    text = (
        "Handbook\n"
        "Contents\n"
        "Introduction\n"
        "Background\n"
        "What is resilience?\n"
        "The capacity to recover from difficulties.\n"
    )
    assert split(text) == [("What is resilience?", "The capacity to recover from difficulties.")]


def test_headerless_toc_of_repeated_questions_is_skipped() -> None:
    text = (
        "FAQ\n"
        "What is stress?\nWhat is burnout?\n\n"
        "What is stress?\nPressure.\n"
        "What is burnout?\nExhaustion.\n"
    )
    assert split(text) == [("What is stress?", "Pressure."), ("What is burnout?", "Exhaustion.")]


def test_unanswered_question_that_is_not_repeated_is_reported_not_a_passage() -> None:
    # Not asked again below, so not a contents list; with nothing under it, not a passage.
    text = "FAQ\nWhat is stress?\nWhat is burnout?\nExhaustion."
    assert split_report(text) == ([("What is burnout?", "Exhaustion.")], ["What is stress?"])


# -- text with no questions -------------------------------------------------------------------


def _prose(n_sentences: int, seed: int) -> list[str]:
    return [f"Sentence {seed}-{i} is about coping with stress at work." for i in range(n_sentences)]


def test_no_question_text_gives_bounded_paragraphs_and_drops_nothing() -> None:
    long_paragraph = _prose(80, 1)  # about 4,400 characters, one sentence per line
    body = ["Short paragraph one.", "", *long_paragraph, "", "Last words here."]
    text = "Notes On Stress\n" + "\n".join(body)
    passages = split(text)
    assert len(passages) >= 5
    assert all(q == "" for q, _ in passages)
    assert all(0 < len(a) <= MAX_PARAGRAPH_CHARS for _, a in passages)
    assert passages[0][1] == "Short paragraph one."
    assert passages[-1][1] == "Last words here."
    for line in filter(None, body):
        assert sum(line in a.split("\n") for _, a in passages) == 1, line
    assert " ".join(a for _, a in passages).split() == " ".join(body).split()


def test_huge_sentence_is_cut_at_spaces() -> None:
    text = "word " * 1000  # 5,000 characters, no sentence end
    pieces = bound_paragraph(text.strip())
    assert len(pieces) == 4
    assert all(len(p) <= MAX_PARAGRAPH_CHARS for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_unbroken_text_is_cut_anywhere() -> None:
    pieces = bound_paragraph("x" * 3200)
    assert [len(p) for p in pieces] == [1500, 1500, 200]


@settings(max_examples=60)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("abc .!\n"), min_size=0, max_size=400),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=20, max_value=300),
)
@example(["a aaaaaaaaaaaaaaaaa", "aaaa"], 20)  # a word longer than the limit after a short one
def test_bound_paragraph_keeps_every_word(parts: list[str], limit: int) -> None:
    text = "".join(parts).strip()
    pieces = bound_paragraph(text, limit) if text else []
    assert all(0 < len(p) <= limit for p in pieces)
    # Every word comes back whole and in order, except that a word longer than the limit comes
    # back as consecutive fragments (pieces do not say whether a cut fell inside a word, so
    # neither joining them with nor without spaces gives the text back in that case).
    got = iter(w for p in pieces for w in p.split())
    for word in text.split():
        if len(word) <= limit:
            assert next(got, None) == word
        else:
            joined = ""
            while len(joined) < len(word):
                joined += next(got, None) or "?"  # "?": a fragment is missing
            assert joined == word
    assert next(got, None) is None


# -- Markdown ---------------------------------------------------------------------------------


def test_markdown_headings_start_passages() -> None:
    text = (
        "# Therapy FAQ\n\n"
        "Welcome to the FAQ.\n\n"
        "## Getting started\n"
        "Book a first session.\n\n"
        "**How much does it cost?**\n"
        "It varies.\n\n"
        "## What if I *don't* like my therapist?\n"
        "You can change.\n"
        "```\n# not a heading\nIs this code?\n```\n\n"
        "Setext Heading\n"
        "--------------\n"
        "Under it.\n\n"
        "***\n"
    )
    doc = parse_document("faq.md", text, "md")
    assert doc.title == "Therapy FAQ"
    passages = [(p.question, p.answer) for p in split_document(doc)]
    assert passages == [
        ("", "Welcome to the FAQ."),
        ("Getting started", "Book a first session."),
        ("How much does it cost?", "It varies."),
        (
            "What if I *don't* like my therapist?",
            "You can change.\n```\n# not a heading\nIs this code?\n```",
        ),
        ("Setext Heading", "Under it."),
    ]


def test_markdown_front_matter_gives_the_title() -> None:
    text = '---\ntitle: "Sleep Tips"\ntags: [sleep]\n---\n# Why can\'t I sleep?\nStress.\n'
    doc = parse_document("s.md", text, "md")
    assert doc.title == "Sleep Tips"
    assert [(p.question, p.answer) for p in split_document(doc)] == [
        ("Why can't I sleep?", "Stress.")
    ]


def test_markdown_toc_with_links_is_skipped() -> None:
    text = (
        "# FAQ\n\n"
        "## Table of contents\n"
        "- [What is EMDR?](#what-is-emdr)\n"
        "- [Is EMDR safe?](#is-emdr-safe)\n\n"
        "## What is EMDR?\nA trauma therapy.\n\n"
        "## Is EMDR safe?\nGenerally, yes.\n"
    )
    assert split(text, "md", "faq.md") == [
        ("What is EMDR?", "A trauma therapy."),
        ("Is EMDR safe?", "Generally, yes."),
    ]


def test_split_document_takes_kind_from_the_extension() -> None:
    doc = Document("notes.md", "", "## What is DBT?\nA therapy.")
    passages = split_document(doc)
    assert [(p.question, p.answer) for p in passages] == [("What is DBT?", "A therapy.")]
    assert passages[0].metadata["kind"] == "md"
    plain = split_document(Document("notes.txt", "", "## What is DBT?\nA therapy."))
    assert [(p.question, p.answer) for p in plain] == [("## What is DBT?", "A therapy.")]


# -- HTML -------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>Anxiety &amp; You</title>
<style>body { color: red; } h2::before { content: "What?" }</style>
<script>var question = "Is this JavaScript?"; if (a < b) {}</script>
</head>
<body>
<header><h1>Site name</h1><a href="/">Home</a></header>
<nav><ul><li>Menu item</li><li>Other page?</li></ul></nav>
<!-- a comment: Is this hidden? -->
<div class="content">
  <h1>Anxiety &amp; You</h1>
  <p>An intro&nbsp;paragraph with&nbsp;entities&#8217; and   extra
     whitespace.</p>
  <h2>What is <em>anxiety</em>?</h2>
  <p>Anxiety is worry.<br>It can be useful.
  <p>#1 rule: breathe.</p>
  <ul><li>First tip</li><li>Second tip</li></ul>
  <h2>How is it treated?
  <p>With therapy.</p>
  <aside>Related: Is coffee bad?</aside>
  <div><nav>unclosed navigation</div>
  <p>After the broken nav.</span></p>
  <noscript>Enable JS?</noscript>
  <form><label>Email?</label><input name=q></form>
</div>
<footer>Copyright. Contact us?</footer>
</body></html>
"""


def test_html_is_reduced_to_article_text() -> None:
    title, passages = split_html(PAGE)
    assert title == "Anxiety & You"
    assert passages == [
        ("", "An intro paragraph with entities’ and extra whitespace."),
        (
            "What is anxiety?",
            "Anxiety is worry.\nIt can be useful.\n\n#1 rule: breathe.\n\n"
            "- First tip\n- Second tip",
        ),
        ("How is it treated?", "With therapy.\n\nAfter the broken nav."),
    ]
    everything = " ".join(q + " " + a for q, a in passages)
    for hidden in ("JavaScript", "color", "Menu", "comment", "Related", "navigation", "Enable",
                   "Email", "Copyright", "Site name"):  # fmt: skip
        assert hidden not in everything


def test_html_list_items_with_paragraphs_stay_on_their_bullet() -> None:
    _, passages = split_html(
        "<h2>What helps?</h2><ul><li><p>Sleep.</p></li><li><div><p>Walks.</p></div></li></ul>"
    )
    assert passages == [("What helps?", "- Sleep.\n- Walks.")]


def test_html_title_falls_back_to_first_h1() -> None:
    title, passages = split_html("<h1>Panic Attacks</h1><p>They pass.</p><h2>Why?</h2><p>x</p>")
    assert title == "Panic Attacks"
    assert passages == [("", "They pass."), ("Why?", "x")]


def test_html_unclosed_title_ends_at_the_next_tag() -> None:
    title, passages = split_html("<title>Grief<body><p>It comes in waves.</p></body>")
    assert (title, passages) == ("Grief", [("", "It comes in waves.")])


def test_html_without_markup_is_text() -> None:
    title, passages = split_html("Plain words < and > signs & more")
    assert title == ""
    assert passages == [("", "Plain words < and > signs & more")]
