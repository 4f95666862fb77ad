"""The index folder's owner: which generation is live (CURRENT), the
publication history, the one-writer lock, publishing, rolling back, and
removing what no generation can reach any more. The files themselves are
described in indexer.index.layout.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterator

from indexer.embedding.cache import EmbeddingCache
from indexer.faults import checkpoint
from indexer.index.errors import IndexBusy, IndexCorrupt, IndexError_, IndexMissing, writing
from indexer.index.files import fsync_dir
from indexer.index.generation import Generation
from indexer.index.history import Entry, History
from indexer.index.layout import (CURRENT, EMBEDDINGS, GENERATIONS, LOCK, MANIFEST, SEGMENTS, STAGING_PREFIX,
                                  generation_id)
from indexer.index.verify import verify_generation
from indexer.index.writer import GenerationWriter

KEEP_GENERATIONS = 3  # live + two states to roll back to, along the publication history


class IndexStore:
    """A folder of generations with one live one."""

    def __init__(self, root: Path | str, cache_path: Path | None = None):
        """`cache_path` puts the embedding cache elsewhere (e.g. shared by
        several test or benchmark indexes of the same corpus)."""
        self.root = Path(root)
        self.generations_dir = self.root / GENERATIONS
        self.segments_dir = self.root / SEGMENTS
        self.cache_path = Path(cache_path) if cache_path else self.root / EMBEDDINGS

    # -- reading
    def current_name(self) -> str | None:
        entry = self.current_entry()
        return entry.name if entry else None

    def current_entry(self) -> Entry | None:
        """What CURRENT names: the live generation's name and id. CURRENT
        written before ids existed holds only the name; the id is then the
        one its manifest implies."""
        try:
            fields = (self.root / CURRENT).read_text("utf-8").split()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not fields:
            return None
        if len(fields) > 1:
            return Entry(fields[0], fields[1])
        try:
            manifest = json.loads((self.generations_dir / fields[0] / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            manifest = {}
        return Entry(fields[0], generation_id(manifest))

    def history(self) -> History:
        """The publication history, agreeing with CURRENT. An index made
        before histories existed gets one from its generations' numbers."""
        current = self.current_entry()
        history = History.load(self.root)
        if history is None:
            history = History()
            names = [n for n in self.generation_names() if current is None or n <= current.name]
            for name in names:
                entry = current if current and name == current.name else self._entry_of(name)
                if entry is not None:
                    history.record_publish(entry)
            history.events = []
        return history.reconcile(current if current and self._entry_of(current.name) == current else None)

    def _entry_of(self, name: str) -> Entry | None:
        try:
            manifest = json.loads((self.generations_dir / name / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return Entry(name, generation_id(manifest))

    def earlier_generations(self) -> list[str]:
        """The states before the live one along the history, newest first:
        where a server goes when the live generation is damaged (never to a
        state the editor rolled back from). With CURRENT missing or naming
        nothing real, the history's live state comes first."""
        history = self.history()
        names = [e.name for e in history.earlier()]
        current = self.current_entry()
        if history.live_entry and (current is None or self._entry_of(current.name) != current):
            names.insert(0, history.live_entry.name)
        return names

    def open_generation(self, name: str, verify: bool = False) -> Generation:
        """Open one generation; with `verify`, also compare its files with
        their checksums (skipping files unchanged since checked)."""
        generation = Generation(self.generations_dir / name, self.segments_dir)
        if verify:
            problems = [p for segment in generation.segments for p in segment.verify_once()]
            if problems:
                generation.close()
                raise IndexCorrupt(f"generation {name} is damaged: {'; '.join(problems)}")
        return generation

    def open_current(self) -> Generation:
        name = self.current_name()
        if name is None and self.generation_names():
            # Not "no index": an `add` would otherwise start a new index of one article.
            last = self.history().live_entry
            raise IndexCorrupt(f"{self.root}/{CURRENT} is missing or empty, but the folder holds generations"
                               f"{f' (last live: {last.name})' if last else ''}; run `python -m indexer rollback "
                               f"--index-dir {self.root}` to make the last live one live again")
        if name is None:
            raise IndexMissing(f"no index at {self.root}; build one with "
                               f"`python -m indexer build corpus --index-dir {self.root}` (or `make index`)")
        path = self.generations_dir / name
        if not path.is_dir():
            raise IndexCorrupt(f"{self.root}/{CURRENT} names generation {name!r}, which does not exist; "
                               f"run `python -m indexer rollback` or rebuild with `python -m indexer build`")
        return Generation(path, self.segments_dir)

    def has_generation(self, name: str) -> bool:
        """Whether a generation folder of that name exists (intact or not)."""
        return (self.generations_dir / name).is_dir()

    def generation_names(self) -> list[str]:
        if not self.generations_dir.is_dir():
            return []
        return sorted(p.name for p in self.generations_dir.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    # -- writing (call these while holding `lock()`)
    @contextlib.contextmanager
    def lock(self, wait_seconds: float = 0.0, create: bool = True) -> Iterator[None]:
        """One writer at a time. A second one waits up to `wait_seconds`,
        then fails with a message naming the holder. Commands that need an
        existing index (remove, rollback) pass `create=False`, so a mistyped
        folder is reported rather than made."""
        if not create and not self.root.is_dir():
            raise IndexMissing(f"no index at {self.root} (no such folder); nothing changed")
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / LOCK, "a+")
        deadline = time.monotonic() + wait_seconds
        try:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as err:
                    if err.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        fh.seek(0)
                        holder = fh.read().strip() or "another process"
                        raise IndexBusy(f"another indexer is writing to {self.root} ({holder}); "
                                        f"try again when it finishes, or pass --wait SECONDS")
                    time.sleep(0.1)
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}")
            fh.flush()
            yield
        finally:
            fh.close()  # closing releases the lock

    def _referenced_segments(self) -> set[str]:
        names = set()
        for name in self.generation_names():
            try:
                manifest = json.loads((self.generations_dir / name / MANIFEST).read_text("utf-8"))
                names.update(e["name"] for e in manifest.get("segments", []))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged generation keeps nothing alive
        return names

    def clean_leftovers(self) -> list[str]:
        """Remove staging folders and segments of builds that died (no
        generation names them); only safe under the lock."""
        removed = []
        if self.generations_dir.is_dir():
            for path in self.generations_dir.iterdir():
                if path.name.startswith(STAGING_PREFIX):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.name)
        for path in self.root.glob(".*.tmp"):  # CURRENT or history.json half-written by a dead writer
            path.unlink(missing_ok=True)
            removed.append(path.name)
        removed += self._remove_unreferenced_segments()
        return removed

    def _remove_unreferenced_segments(self) -> list[str]:
        if not self.segments_dir.is_dir():
            return []
        referenced = self._referenced_segments()
        removed = []
        for path in self.segments_dir.iterdir():
            if path.name not in referenced:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def embedding_cache(self, dimension: int) -> EmbeddingCache:
        """The cache of vectors for this index's model (indexer.embedding.cache);
        a write it cannot make is reported as IndexWriteFailed."""
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        return EmbeddingCache(self.cache_path, dimension, writing=writing)

    def new_generation(self, model: str, dimension: int) -> GenerationWriter:
        with writing(f"a new generation in {self.generations_dir}", self.generations_dir):
            self.generations_dir.mkdir(parents=True, exist_ok=True)
            # Never reuse a number, even of a pruned generation: logs and
            # `status` name generations, and a name must mean one state.
            existing = [int(n.split("-")[1]) for n in self.generation_names()
                        if n.startswith("gen-") and n.split("-")[1].isdigit()]
            stored = History.load(self.root)
            number = max([stored.last_number if stored else 0, *existing])
            name = f"gen-{number + 1:06d}"
            staging = self.generations_dir / f"{STAGING_PREFIX}{name}-{os.getpid()}"
            staging.mkdir()
        return GenerationWriter(self, staging, name, model, dimension)

    def new_segment_folder(self) -> Path:
        """A fresh segment name (the folder is created by `write_segment`)."""
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name.split("-")[1]) for p in self.segments_dir.iterdir()
                   if p.name.startswith("seg-") and p.name.split("-")[1].isdigit()]
        return self.segments_dir / f"seg-{(max(numbers) + 1) if numbers else 1:06d}"

    def publish(self, writer: GenerationWriter) -> Entry:
        """Check the new generation opens, its new segments match their
        checksums and it agrees with itself (`indexer.index.verify`), then make it
        live with one atomic rename of CURRENT. A bad generation is refused
        and the live one stays. Returns what is live now (its name and id);
        nothing is opened again for it."""
        final = self.generations_dir / writer.name
        try:
            staged = Generation(writer.staging, self.segments_dir)
            try:
                new = [s for s in staged.segments if s.path in writer.new_segments]
                problems = verify_generation(staged, new)
            finally:
                staged.close()
            if problems:
                raise IndexCorrupt(f"generation {writer.staging} is damaged: {'; '.join(problems)}")
        except IndexError_ as err:
            self.discard(writer)
            raise IndexCorrupt(f"new generation refused, live index unchanged: {err}")
        checkpoint("before-switch")
        history = self.history()
        os.rename(writer.staging, final)
        entry = Entry(writer.name, writer.id)
        self._point_current_to(entry)
        history.record_publish(entry, keep=KEEP_GENERATIONS)
        self._save_history(history)
        self._prune(history)
        return entry

    def discard(self, writer: GenerationWriter) -> None:
        """Remove an unpublished generation and its new segments. A segment
        opened while it was checked may stay in the process's segment cache;
        that cache is keyed by the hash of segment.json, so a later segment
        reusing the folder name is never served from it."""
        shutil.rmtree(writer.staging, ignore_errors=True)
        for folder in writer.new_segments:
            shutil.rmtree(folder, ignore_errors=True)

    def rollback(self) -> str:
        """Undo the last publish (or go one more step back after a
        rollback), along the publication history. The state rolled back to
        is checked first; a damaged one is refused and nothing changes."""
        current = self.current_entry()
        history = self.history()
        if current is None or self._entry_of(current.name) != current:
            return self._restore(history)
        earlier = history.earlier()
        if not earlier:
            raise IndexMissing(f"nothing to roll back to: {history.live_entry.name} is the oldest state kept "
                               f"in {self.root} (`python -m indexer status` shows the history)")
        target = earlier[0]
        if self._entry_of(target.name) != target:
            raise IndexCorrupt(f"cannot roll back to {target.name}: its folder is missing or was replaced")
        return self._make_live_again(target, history, history.record_rollback)

    def _restore(self, history: History) -> str:
        """CURRENT is missing, empty or names no real generation (a slip of
        an editor's hand): make the history's live state live again."""
        target = history.live_entry
        if target is None or self._entry_of(target.name) != target:
            raise IndexMissing(f"no index at {self.root}; nothing to roll back")
        return self._make_live_again(target, history, history.record_restore)

    def _make_live_again(self, target: Entry, history: History, record: Callable[[], Entry]) -> str:
        """Switch CURRENT to an earlier state once it is checked intact."""
        try:
            self.open_generation(target.name, verify=True).close()
        except IndexError_ as err:
            raise IndexCorrupt(f"cannot make {target.name} live again, it is damaged: {err}") from None
        self._point_current_to(target)
        record()
        self._save_history(history)
        return target.name

    def _point_current_to(self, entry: Entry) -> None:
        tmp = self.root / f".CURRENT.{os.getpid()}.tmp"
        tmp.write_text(f"{entry.name} {entry.id}\n", "utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / CURRENT)
        fsync_dir(self.root)

    def _save_history(self, history: History) -> None:
        with writing(f"the publication history in {self.root}", self.root):
            history.save(self.root)

    def _prune(self, history: History) -> None:
        """Delete generations no rollback can reach: those not in the
        history's chain (which always holds the state before the live one)."""
        keep = {e.name for e in history.chain}
        for name in self.generation_names():
            if name not in keep:
                shutil.rmtree(self.generations_dir / name, ignore_errors=True)
        self._remove_unreferenced_segments()
