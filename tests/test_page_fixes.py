"""Fixes from issue 18, fast (the hashing test embedder): matched terms without contraction
fragments, an add that changes nothing publishes nothing, honest build times, answers as
paragraphs, and supportive results under the crisis notice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from index import add_sources, open_index
from index.publish import POINTER, VERSIONS
from search import Searcher
from search.explain import MARK_CLOSE as C
from search.explain import MARK_OPEN as O
from search.explain import matched_terms
from search.support import SUPPORTIVE_QUERY, blend, search_with_support
from tests.fakes import HashEmbedder
from ui.render import excerpt, paragraphs, source_name

GOOD_MD = "# Calm\n\n## How do I calm down when panic starts?\n\nBreathe out slowly.\n"


def _current(index_dir: Path) -> str:
    return (index_dir / POINTER).read_text(encoding="utf-8").strip()


def _versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / VERSIONS).iterdir())


def test_matched_terms_leave_out_fragments_of_contractions() -> None:
    question = f"I don'{O}t{C} {O}want{C} to live, I'{O}ve{C} tried"
    answer = f"You {O}don{C}'t have to. My {O}client{C}'{O}s{C} {O}want{C} is {O}valid{C}"
    assert matched_terms((question, answer)) == ["want", "client", "valid"]


def test_a_real_query_with_a_contraction_shows_no_fragment(hash_index: Path) -> None:
    searcher = Searcher.open(hash_index)
    hits = searcher.search("I don't want to go to therapy, it doesn't help", k=10)
    terms = {t for h in hits for t in h.matched_terms}
    assert terms and not terms & {"t", "s", "don", "doesn", "ve", "ll", "re", "m", "d"}


def test_add_of_files_that_all_fail_publishes_nothing(
    hash_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = _current(hash_index)
    versions = _versions(hash_index)
    empty, binary = tmp_path / "empty.md", tmp_path / "binary.txt"
    empty.write_text("  \n", encoding="utf-8")
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    report = add_sources([empty, binary], hash_index, HashEmbedder())
    assert not report.published and len(report.errors) == 2
    assert report.version == current and report.passages == 127
    assert _current(hash_index) == current and _versions(hash_index) == versions
    # The command: the problems on stderr, exit 3 (files were skipped), and it says so.
    code = main(["add", str(empty), str(binary), "--index", str(hash_index)])
    out, err = capsys.readouterr()
    assert code == 3 and err.count("warning: ") == 2
    assert out.splitlines()[-1].startswith("Nothing changed: kept")
    assert _current(hash_index) == current and _versions(hash_index) == versions
    # Adding a file already indexed, unchanged, publishes nothing either.
    code = main(["add", str(hash_index.parent), "--index", str(hash_index), "--json"])
    assert json.loads(capsys.readouterr().out)["published"] is False
    assert _current(hash_index) == current


def test_info_keeps_the_full_build_time_after_an_add(
    hash_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = open_index(hash_index).manifest
    assert built.update_seconds == built.build_seconds > 0
    doc = tmp_path / "calm.md"
    doc.write_text(GOOD_MD, encoding="utf-8")
    report = add_sources([doc], hash_index, HashEmbedder())
    assert report.published
    after = open_index(hash_index).manifest
    assert after.build_seconds == built.build_seconds  # the add did not become the build time
    assert after.update_seconds > 0
    assert main(["info", "--index", str(hash_index)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "build_seconds" in x)
    assert f"built in {built.build_seconds:.1f} s" in line
    assert f"last update took {after.update_seconds:.1f} s" in line


def test_paragraphs_undo_wrapping_and_keep_offsets() -> None:
    text = "I felt low\nfor weeks.\n\nThen I\nasked for help:\n- a friend\n2. a doctor\nand more"
    flat = paragraphs(text)
    assert len(flat) == len(text)  # highlight offsets stay valid
    assert flat.split("\n\n")[0] == "I felt low for weeks."
    assert flat.split("\n\n")[1] == "Then I asked for help:\n- a friend\n2. a doctor and more"


def test_source_names_are_titles_or_readable_file_names() -> None:
    titles = {"/c/000_seed.txt": "Why is trust important?", "/c/table.csv": ""}
    assert source_name("/c/000_seed.txt", titles) == "Why is trust important?"
    assert source_name("/c/counselchat_answers.csv", titles) == "counselchat answers"


def test_excerpt_shows_the_best_sentences_only(hash_index: Path) -> None:
    hit = Searcher.open(hash_index).search("psychotherapy resistance", k=1)[0]
    shown = excerpt(hit)
    assert hit.sentences and shown.count(":blue-background[") == len(hit.sentences) <= 2
    assert len(shown) < len(hit.passage.answer) + 60 * len(hit.sentences)


def test_crisis_question_leads_with_the_supportive_passages(hash_index: Path) -> None:
    searcher = Searcher.open(hash_index)
    query = "I want to kill myself tonight"
    assert searcher.needs_crisis_notice(query)
    found = search_with_support(searcher, query, k=10)
    support = searcher.search(SUPPORTIVE_QUERY, k=3)
    assert found.crisis and found.supportive == 3
    ids = [h.passage.id for h in found.hits]
    assert ids[:3] == [h.passage.id for h in support]
    assert len(ids) == len(set(ids)) == 10 and [h.rank for h in found.hits] == list(range(1, 11))
    assert all(not h.matched_terms for h in found.hits[:3])  # not the asker's words
    own = [h.passage.id for h in searcher.search(query, k=10)]
    assert ids[3:] == [i for i in own if i not in ids[:3]][:7]


def test_ordinary_question_is_ranked_as_before(hash_index: Path) -> None:
    searcher = Searcher.open(hash_index)
    query = "how do I build trust with my therapist"
    found = search_with_support(searcher, query, k=5)
    assert not found.crisis and found.supportive == 0
    assert [h.passage.id for h in found.hits] == [h.passage.id for h in searcher.search(query, k=5)]


def test_blend_cuts_and_renumbers(hash_index: Path) -> None:
    hits = Searcher.open(hash_index).search("trust", k=6)
    merged = blend(hits[3:5], hits, 4)
    assert [h.passage.id for h in merged] == [h.passage.id for h in (*hits[3:5], *hits[:2])]
    assert [h.rank for h in merged] == [1, 2, 3, 4]
