"""Bad PDFs get one line naming the file and the rest of a batch is indexed; a long PDF is read
page by page, with progress, in bounded memory; pages reach the JSON, exports and the page."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from cli import main
from index import build_index
from ingest import IngestError, read_file, read_sources
from search import Searcher
from search import export as xp
from tests import make_documents as make
from tests.conftest import ROOT
from tests.fakes import CLI_WITH_HASH, HashEmbedder, run_on_terminal


def _one_line(tmp_path: Path, name: str, data: bytes, *words: str) -> str:
    path = make.write(tmp_path / name, data)
    with pytest.raises(IngestError) as err:
        read_file(path)
    line = err.value.one_line()
    assert line.startswith(f"{path.as_posix()}: ") and "\n" not in line, line
    for word in words:
        assert word in line, line
    return line


def test_a_scan_says_it_needs_ocr(tmp_path: Path) -> None:
    _one_line(tmp_path, "scan.pdf", make.scan_pdf(), "no text", "OCR")


def test_a_pdf_of_blank_pages_has_no_text(tmp_path: Path) -> None:
    _one_line(tmp_path, "blank.pdf", make.plain_pdf([], []), "no text", "2 pages")


def test_an_encrypted_pdf(tmp_path: Path) -> None:
    _one_line(tmp_path, "locked.pdf", make.encrypted_pdf(make.leaflet()), "encrypted", "password")


@pytest.mark.parametrize("share", [0.1, 0.5, 0.9])
def test_a_truncated_pdf(tmp_path: Path, share: float) -> None:
    data = make.leaflet()
    _one_line(tmp_path, "cut.pdf", data[: int(len(data) * share)], "damaged or truncated")


def test_text_named_pdf_and_an_empty_pdf(tmp_path: Path) -> None:
    _one_line(tmp_path, "notes.pdf", b"Why rest?\nIt helps.\n", "not a PDF")
    _one_line(tmp_path, "empty.pdf", b"", "empty")


def test_a_batch_with_bad_pdfs_indexes_the_rest_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "docs"
    make.write(folder / "leaflet.pdf", make.leaflet())
    bad = {
        "scan": make.write(folder / "scan.pdf", make.scan_pdf()),
        "locked": make.write(folder / "locked.pdf", make.encrypted_pdf(make.leaflet())),
        "cut": make.write(folder / "cut.pdf", make.leaflet()[:3000]),
    }
    result = read_sources([folder])
    assert len(result.passages) == len(make.SECTIONS) and len(result.errors) == len(bad)
    code = main(["build", str(folder), "--index", str(tmp_path / "ix"), "--model", "hash-test"])
    _, err = capsys.readouterr()
    assert code == 3 and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == len(bad) and all(line.startswith("warning: ") for line in lines), err
    for path in bad.values():
        assert sum(line.startswith(f"warning: {path.as_posix()}:") for line in lines) == 1


def test_a_300_page_pdf_reports_each_page_in_bounded_memory(tmp_path: Path) -> None:
    path = make.write(tmp_path / "long.pdf", make.many_pages(300))
    seen: list[tuple[str, int, int]] = []
    tracemalloc.start()
    try:
        result = read_sources([path], page_progress=lambda s, d, t: seen.append((s, d, t)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [d for _, d, _ in seen] == list(range(1, 301))
    assert {(s, t) for s, _, t in seen} == {(path.as_posix(), 300)}
    assert len(result.passages) == 300 and result.passages[-1].pages == (300,)
    # Each page's layout is dropped once its lines are taken: a few MB, not one layout a page.
    assert peak < 40 * 1024 * 1024, peak


def test_a_long_pdf_shows_a_bar_of_its_pages_on_a_terminal(tmp_path: Path) -> None:
    path = make.write(tmp_path / "long.pdf", make.many_pages(40))
    args = ["build", str(path), "--index", str(tmp_path / "ix"), "--model", "hash-test"]
    code, bars = run_on_terminal([*CLI_WITH_HASH, *args], ROOT)
    assert code == 0, bars
    assert f"pages {path.as_posix()}" in bars and "40/40" in bars and "documents read" in bars


def test_pages_reach_json_exports_and_the_page(tmp_path: Path) -> None:
    from ui.render import escape_md, provenance

    make.write(tmp_path / "docs" / "leaflet.pdf", make.leaflet(repeat=6))
    build_index([tmp_path / "docs"], tmp_path / "ix", HashEmbedder())
    searcher = Searcher.open(tmp_path / "ix")
    hits = searcher.search("talking to a counsellor helplines anonymous", k=4, explain=False)
    spread = next(h for h in hits if len(h.passage.pages) > 1)
    first, last = spread.passage.pages[0], spread.passage.pages[-1]
    assert json.loads(json.dumps(spread.to_dict()))["pages"] == list(spread.passage.pages)
    rows = xp.hit_rows([spread], searcher=searcher, query="q", mode="hybrid")
    assert rows[0]["pages"] == f"{first}-{last}"
    assert f",{first}-{last}," in xp.to_csv(rows)
    assert escape_md(f"from leaflet, pp. {first}-{last}") in provenance(spread, {})
    one = next(h for h in hits if len(h.passage.pages) == 1)
    assert escape_md(f"from leaflet, p. {one.passage.pages[0]} ") in provenance(one, {}) + " "


def test_unpaged_documents_have_no_pages(hash_index: Path) -> None:
    hit = Searcher.open(hash_index).search("feeling worthless", k=1, explain=False)[0]
    assert hit.to_dict()["pages"] == [] and hit.passage.to_dict()["pages"] == []
