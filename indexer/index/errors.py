"""What can go wrong with an index, and how a failed write is explained.

Every message says what to run or fix next: these reach an editor at the
command line or a reader's error page, not a developer's traceback.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Iterator


class IndexError_(Exception):
    """Base for index problems; messages say what to run to fix them."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexBusy(IndexError_):
    pass


class IndexWriteFailed(IndexError_):
    """Writing a new generation or the embedding cache failed (full disk,
    read-only folder, I/O error); the live generation is untouched."""


def write_failure(what: str, where: Path, err: BaseException) -> IndexWriteFailed:
    """Name the cause plainly, and the fix that goes with it. SQLite says
    "attempt to write a readonly database" both on a read-only mount and in
    a folder the user may not write, "database or disk is full" or even
    "disk I/O error" where the OS said ENOSPC, and FAISS "fwrite failed"; so
    the folder itself is asked what is wrong."""
    reason = (err.strerror if isinstance(err, OSError) and err.strerror else str(err).splitlines()[0]
              if str(err) else type(err).__name__)
    folder = next((p for p in (where, *where.parents) if p.exists()), where)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    errno_ = getattr(err, "errno", None)
    if errno_ == errno.EROFS or mounted_read_only(folder):
        cause, fix = (f"Read-only file system: {folder} is on a read-only mount ({reason})",
                      "remount it read-write or choose another --index-dir")
    elif errno_ in (errno.EACCES, errno.EPERM) or not os.access(folder, os.W_OK):
        cause, fix = (f"Permission denied: {folder} is not writable by this user, uid {os.getuid()} ({reason})",
                      "fix the folder's owner or permissions, or run as its owner")
    elif errno_ == errno.ENOSPC or "full" in reason.lower() or (free is not None and free < (1 << 20)):
        cause, fix = f"No space left on device: {free} bytes free ({reason})", "free some space"
    else:
        cause, fix = reason, "fix the cause"
    return IndexWriteFailed(f"could not write {what}: {cause}; the live index is unchanged. "
                            f"To continue, {fix} and run the command again")


def mounted_read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@contextlib.contextmanager
def writing(what: str, where: Path, also: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn a failed write of `what` into IndexWriteFailed naming the cause
    (`also`: further exception types the writer raises for I/O trouble)."""
    try:
        yield
    except IndexError_:
        raise
    except (OSError, sqlite3.Error, *also) as err:
        raise write_failure(what, where, err) from err
