"""Reading and writing the index's small files so that a crash leaves either
the old file or the new one, never half of one, and damage is detected."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from indexer.index.errors import IndexCorrupt


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_durably(path: Path, data: dict) -> None:
    """Write beside `path`, flush to disk, then rename over it."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2, sort_keys=True))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path: Path, what: str) -> dict:
    """A manifest or segment.json; missing or unreadable means a damaged index."""
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{what} has no {path.name}")
    except (ValueError, UnicodeDecodeError) as err:
        raise IndexCorrupt(f"{what}: {path.name} is not valid JSON ({err})")
