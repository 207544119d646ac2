"""Incremental updates: only new or changed text is embedded; the report says what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import IndexNotFound, add_sources, build_index, open_index, remove_sources
from ingest import IngestError
from search import Searcher
from tests.fakes import HashEmbedder


class CountingEmbedder(HashEmbedder):
    """The hashing embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def encode(self, texts, *, batch_size=64, progress=None):  # type: ignore[override]
        self.calls.append(len(texts))
        return super().encode(texts, batch_size=batch_size, progress=progress)


def write(path: Path, *qa: tuple[str, str]) -> Path:
    path.write_text("".join(f"{q}\n{a}\n" for q, a in qa))
    return path


@pytest.fixture()
def docs(tmp_path: Path) -> dict[str, Path]:
    return {
        "a": write(
            tmp_path / "a.txt",
            ("What is CBT?", "A talking therapy."),
            ("Does CBT work?", "For many people, yes."),
        ),
        "b": write(
            tmp_path / "b.txt",
            ("What is grief?", "The response to loss."),
            ("How long does grief last?", "It varies a lot."),
        ),
    }


def test_add_embeds_only_the_new_document(tmp_path: Path, docs: dict[str, Path]) -> None:
    model = CountingEmbedder()
    ix = tmp_path / "ix"
    first = build_index([docs["a"]], ix, model)
    assert (first.embedded, first.plan.passages_added) == (2, 2)
    report = add_sources([docs["b"]], ix, model)
    assert report.embedded == 2 and report.passages == 4
    assert report.plan.documents_added == (str(docs["b"]),)
    assert report.plan.documents_unchanged == (str(docs["a"]),)
    assert (report.plan.passages_added, report.plan.passages_unchanged) == (2, 2)
    hits = Searcher.open(ix).search("how long does grief last", k=1)
    assert hits[0].passage.question == "How long does grief last?"


def test_rebuild_with_nothing_changed_embeds_nothing(tmp_path: Path, docs: dict[str, Path]):
    model = CountingEmbedder()
    ix = tmp_path / "ix"
    build_index(list(docs.values()), ix, model)
    model.calls.clear()
    report = build_index(list(docs.values()), ix, model)
    assert report.embedded == 0 and sum(model.calls) == 0
    assert len(report.plan.documents_unchanged) == 2 and report.plan.passages_unchanged == 4


def test_changed_document_reembeds_only_changed_passages(tmp_path: Path, docs):
    model = CountingEmbedder()
    ix = tmp_path / "ix"
    build_index(list(docs.values()), ix, model)
    write(
        docs["a"],
        ("What is CBT?", "A talking therapy."),
        ("Does CBT work?", "For many people it helps within weeks."),
    )
    report = build_index(list(docs.values()), ix, model)
    assert report.embedded == 1
    assert report.plan.documents_changed == (str(docs["a"]),)
    assert (report.plan.passages_changed, report.plan.passages_unchanged) == (1, 3)
    answers = {p.answer for p in open_index(ix).passages.by_rows(range(4)).values()}
    assert "For many people it helps within weeks." in answers
    assert "For many people, yes." not in answers


def test_build_drops_sources_not_named_and_remove_drops_one(tmp_path: Path, docs):
    ix = tmp_path / "ix"
    build_index(list(docs.values()), ix, HashEmbedder())
    report = build_index([docs["b"]], ix, HashEmbedder())
    assert report.plan.documents_removed == (str(docs["a"]),) and report.passages == 2
    add_sources([docs["a"]], ix, HashEmbedder())
    report = remove_sources(["a.txt"], ix, HashEmbedder())  # by file name
    assert report.plan.documents_removed == (str(docs["a"]),)
    assert report.plan.passages_removed == 2 and report.passages == 2
    with pytest.raises(IngestError, match="not a source of this index"):
        remove_sources(["nothing.txt"], ix, HashEmbedder())


def test_add_needs_an_index(tmp_path: Path, docs) -> None:
    with pytest.raises(IndexNotFound):
        add_sources([docs["a"]], tmp_path / "none", HashEmbedder())


def test_shared_passage_survives_removal_of_one_source(tmp_path: Path, docs) -> None:
    copy = write(tmp_path / "copy.txt", ("What is CBT?", "A talking therapy."))
    ix = tmp_path / "ix"
    build_index([docs["a"], copy], ix, HashEmbedder())

    def shared() -> tuple[str, ...]:
        hits = Searcher.open(ix).search("what is cbt", k=5)
        return next(h.passage.sources for h in hits if h.passage.question == "What is CBT?")

    assert set(shared()) == {str(docs["a"]), str(copy)}
    remove_sources([str(docs["a"])], ix, HashEmbedder())
    assert shared() == (str(copy),)


def test_unreadable_indexed_file_keeps_its_passages(tmp_path: Path, docs) -> None:
    ix = tmp_path / "ix"
    build_index(list(docs.values()), ix, HashEmbedder())
    docs["a"].unlink()  # vanished since the last build
    report = build_index(list(docs.values()), ix, HashEmbedder())
    assert report.passages == 4 and report.errors
    assert str(docs["a"]) in report.errors[0].one_line()
