"""The on-disk index: the only module that knows its layout.

    <root>/CURRENT               name of the live generation (replaced atomically)
    <root>/generations/<name>/   one complete, immutable index:
        manifest.json            model, dimension, counts, corpus hash, checksums
        vectors.faiss            passage vectors (normalised, inner product); id = passage id
        articles.faiss           whole-article vectors; id = article number
        passages.sqlite          articles, passages, pages, lexical index (FTS5), vocabulary
    <root>/generations/.staging-*  a build in progress (removed if abandoned)
    <root>/embeddings.sqlite     cache of vectors keyed by model + text hash
    <root>/.lock                 held by the one writer at a time

Readers only ever follow CURRENT to a finished generation, so they never see
a half-written index; a writer builds a whole new generation beside the live
one and switches CURRENT with a single rename.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import faiss
import numpy as np

from indexer.faults import checkpoint
from indexer.models import Article, Page, Passage
from indexer.text import stems as text_stems, words as text_words

FORMAT_VERSION = 3
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
ARTICLE_VECTORS = "articles.faiss"
METADATA = "passages.sqlite"
KEEP_GENERATIONS = 3  # live + two to roll back to


SCHEMA = """
CREATE TABLE pages (id TEXT PRIMARY KEY, title TEXT NOT NULL, url TEXT, disclaimer TEXT);
CREATE TABLE articles (
    id TEXT PRIMARY KEY, num INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    author TEXT, credentials TEXT, source TEXT, url TEXT, page_id TEXT,
    synonyms TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT NOT NULL,
    passages INTEGER NOT NULL);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id),
    position INTEGER NOT NULL, text TEXT NOT NULL, embed_text TEXT NOT NULL,
    sentences TEXT NOT NULL, text_hash TEXT NOT NULL);
CREATE INDEX passages_by_article ON passages(article_id, position);
-- Lexical index over pre-stemmed words (indexer.text.stems), so index and
-- query are cut and stemmed by the same code. rowid = passage id.
CREATE VIRTUAL TABLE passages_fts USING fts5(body, synonyms, tokenize='unicode61');
CREATE TABLE vocabulary (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
"""


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


def _write_failure(what: str, where: Path, err: BaseException) -> IndexWriteFailed:
    """Name the cause plainly: SQLite says "database or disk is full" or even
    "disk I/O error" and FAISS "fwrite failed" where the OS said ENOSPC."""
    reason = (err.strerror if isinstance(err, OSError) and err.strerror else str(err).splitlines()[0]
              if str(err) else type(err).__name__)
    try:
        free = shutil.disk_usage(where if where.exists() else where.parent).free
    except OSError:
        free = None
    errno_ = getattr(err, "errno", None)
    if errno_ == errno.EROFS or "readonly" in reason.lower().replace("-", "").replace(" ", ""):
        reason = f"Read-only file system ({reason})"
    elif errno_ == errno.ENOSPC or "full" in reason.lower() or (free is not None and free < (1 << 20)):
        reason = f"No space left on device: {free} bytes free ({reason})"
    return IndexWriteFailed(f"could not write {what}: {reason}; the live index is unchanged. "
                            f"Free some space (or fix the folder's permissions) and run the command again")


@contextlib.contextmanager
def _writing(what: str, where: Path, also: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    try:
        yield
    except IndexError_:
        raise
    except (OSError, sqlite3.Error, *also) as err:
        raise _write_failure(what, where, err) from err


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- reading

@dataclass
class PassageRecord:
    """A passage joined with its article's attribution, as readers get it."""

    id: int
    article_id: str
    position: int
    text: str
    sentences: list[str]
    article_title: str
    article_kind: str
    article_url: str | None
    author: str | None
    credentials: str | None
    source: str | None
    page_id: str | None
    passage_count: int


_PASSAGE_SELECT = """
SELECT p.id, p.article_id, p.position, p.text, p.sentences, a.title, a.kind, a.url,
       a.author, a.credentials, a.source, a.page_id, a.passages
FROM passages p JOIN articles a ON a.id = p.article_id
"""


def _passage_from_row(row: tuple) -> PassageRecord:
    return PassageRecord(
        id=row[0], article_id=row[1], position=row[2], text=row[3],
        sentences=json.loads(row[4]), article_title=row[5], article_kind=row[6],
        article_url=row[7], author=row[8], credentials=row[9], source=row[10],
        page_id=row[11], passage_count=row[12],
    )


class Generation:
    """One published, read-only index generation, safe to share across threads."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.name
        try:
            self.manifest = json.loads((path / MANIFEST).read_text("utf-8"))
        except FileNotFoundError:
            raise IndexCorrupt(f"generation {path} has no {MANIFEST}")
        except (ValueError, UnicodeDecodeError) as err:
            raise IndexCorrupt(f"generation {path}: {MANIFEST} is not valid JSON ({err})")
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(f"generation {path} has format {self.manifest.get('format_version')!r}, "
                               f"this code reads {FORMAT_VERSION}; rebuild with `python -m indexer build` (or `make index`)")
        self.index = self._read_faiss(VECTORS)
        self.article_index = self._read_faiss(ARTICLE_VECTORS)
        uri = f"file:{path / METADATA}?mode=ro&immutable=1"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            count = self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise IndexCorrupt(f"generation {path}: {METADATA} cannot be read ({err})")
        self._lock = threading.Lock()
        expected = self.manifest.get("passages")
        if not (self.index.ntotal == count == expected) or self.index.d != self.manifest.get("dimension") \
                or self.article_index.ntotal != self.manifest.get("articles"):
            raise IndexCorrupt(
                f"generation {path} disagrees with itself: manifest says {expected} passages of "
                f"dimension {self.manifest.get('dimension')}, FAISS has {self.index.ntotal} of "
                f"dimension {self.index.d}, SQLite has {count}")

    def _read_faiss(self, filename: str):
        # Memory-mapped, read-only: the vectors stay in the OS page cache, so
        # several server processes (replicas) on one machine share one copy,
        # and opening a generation does not copy it onto the heap. Safe
        # because a published generation is never written again.
        try:
            return faiss.read_index(str(self.path / filename), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError as err:
            raise IndexCorrupt(f"generation {self.path}: {filename} cannot be read "
                               f"({str(err).splitlines()[0]})")

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def passage_count(self) -> int:
        return int(self.manifest["passages"])

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, self.index.ntotal))
        return self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)

    def search_articles(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Whole-article vectors; ids are article numbers (see `article_ids`)."""
        k = max(1, min(k, self.article_index.ntotal))
        return self.article_index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)

    def lexical(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """BM25 over stemmed words: (passage id, score), best first. Terms are
        quoted, so nothing a reader types is read as FTS5 syntax."""
        terms = [t for t in dict.fromkeys(terms) if t]
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rows = self._query("SELECT rowid, -bm25(passages_fts, 1.0, 0.5) FROM passages_fts "
                           "WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts, 1.0, 0.5) LIMIT ?",
                           (match, k))
        return [(int(r[0]), float(r[1])) for r in rows]

    @functools.cached_property
    def article_ids(self) -> list[str]:
        """Article id by article number."""
        return [r[0] for r in self._query("SELECT id FROM articles ORDER BY num")]

    @functools.cached_property
    def passage_articles(self) -> np.ndarray:
        """Article number of each passage, by passage id."""
        rows = self._query("SELECT a.num FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id")
        return np.array([r[0] for r in rows], dtype=np.int64)

    @functools.cached_property
    def _article_starts(self) -> np.ndarray:
        # Passages are stored grouped by article, in article-number order.
        return np.searchsorted(self.passage_articles, np.arange(len(self.article_ids) + 1))

    def passage_range(self, article_num: int) -> tuple[int, int]:
        """Passage ids [start, end) of one article."""
        starts = self._article_starts
        return int(starts[article_num]), int(starts[article_num + 1])

    @functools.cached_property
    def vocabulary(self) -> dict[str, int]:
        return dict(self._query("SELECT word, count FROM vocabulary"))

    def passage_vectors(self, ids: Sequence[int]) -> np.ndarray:
        return np.stack([self.index.reconstruct(int(i)) for i in ids]) if len(ids) else \
            np.zeros((0, self.index.d), dtype=np.float32)

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRecord]:
        ids = [int(i) for i in ids if int(i) >= 0]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._query(_PASSAGE_SELECT + f" WHERE p.id IN ({marks})", ids)
        return {row[0]: _passage_from_row(row) for row in rows}

    def article_passages(self, article_id: str) -> list[PassageRecord]:
        rows = self._query(_PASSAGE_SELECT + " WHERE p.article_id = ? ORDER BY p.position", (article_id,))
        return [_passage_from_row(row) for row in rows]

    def articles(self) -> list[Article]:
        rows = self._query("SELECT id, kind, title, text, author, credentials, source, url, "
                           "page_id, synonyms, origin FROM articles ORDER BY id")
        return [Article(id=r[0], kind=r[1], title=r[2], text=r[3], author=r[4], credentials=r[5],
                        source=r[6], url=r[7], page=r[8], synonyms=tuple(json.loads(r[9])),
                        origin=r[10]) for r in rows]

    def article_hashes(self) -> dict[str, str]:
        return dict(self._query("SELECT id, content_hash FROM articles"))

    def pages(self) -> list[Page]:
        rows = self._query("SELECT id, title, url, disclaimer FROM pages ORDER BY id")
        return [Page(id=r[0], title=r[1], url=r[2], disclaimer=r[3]) for r in rows]

    def counts_by_source(self) -> dict[str, int]:
        rows = self._query("SELECT COALESCE(source, ''), COUNT(*) FROM articles GROUP BY 1 ORDER BY 2 DESC")
        return {src: n for src, n in rows}

    def vectors(self) -> np.ndarray:
        """All stored vectors, in passage-id order (decoded if quantised)."""
        return self.index.reconstruct_n(0, self.index.ntotal)

    def verify_checksums(self) -> list[str]:
        problems = []
        for name, expected in self.manifest.get("checksums", {}).items():
            path = self.path / name
            if not path.exists():
                problems.append(f"{path}: missing")
            elif _sha256_file(path) != expected:
                problems.append(f"{path}: checksum does not match the manifest (file damaged)")
        return problems

    def close(self) -> None:
        with self._lock:
            self._db.close()


# --------------------------------------------------------------------------- writing

class GenerationWriter:
    """Writes one new generation into a staging folder; `IndexStore.publish`
    makes it live. Nothing here touches the live generation."""

    def __init__(self, staging: Path, name: str, model: str, dimension: int):
        self.staging, self.name, self.model, self.dimension = staging, name, model, dimension

    def write(self, articles: Sequence[Article], pages: Sequence[Page], passages: Sequence[Passage],
              vectors: np.ndarray, article_vectors: np.ndarray, extra: dict | None = None) -> dict:
        """Write everything; `article_vectors[i]` belongs to `articles[i]`."""
        if len(passages) != len(vectors) or len(articles) != len(article_vectors):
            raise ValueError("vectors do not match passages or articles")
        # FAISS reports a failed write (e.g. ENOSPC) as RuntimeError.
        with _writing(f"the new generation in {self.staging}", self.staging, also=(RuntimeError,)):
            return self._write(articles, pages, passages, vectors, article_vectors, extra)

    def _write(self, articles, pages, passages, vectors, article_vectors, extra) -> dict:
        index_type = self._write_faiss(VECTORS, vectors)
        self._write_faiss(ARTICLE_VECTORS, article_vectors)
        checkpoint("faiss-written")
        self._write_sqlite(articles, pages, passages)
        checkpoint("sqlite-written")
        corpus_hash = hashlib.sha256(
            "".join(sorted(a.content_hash() for a in articles)).encode()).hexdigest()
        files = (VECTORS, ARTICLE_VECTORS, METADATA)
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": self.name,
            "model": self.model,
            "dimension": self.dimension,
            "index_type": index_type,
            "metric": "inner_product",
            "normalized": True,
            "articles": len(articles),
            "passages": len(passages),
            "corpus_hash": corpus_hash,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "checksums": {name: _sha256_file(self.staging / name) for name in files},
            **(extra or {}),
        }
        tmp = self.staging / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
        os.replace(tmp, self.staging / MANIFEST)
        for name in (*files, MANIFEST):
            with open(self.staging / name, "rb") as fh:
                os.fsync(fh.fileno())
        return manifest

    def _write_faiss(self, filename: str, vectors: np.ndarray) -> str:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        index = make_vector_index(vectors, self.dimension)
        faiss.write_index(index, str(self.staging / filename))
        return type(index).__name__

    def _write_sqlite(self, articles, pages, passages) -> None:
        db = sqlite3.connect(self.staging / METADATA)
        try:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
            db.executemany("INSERT INTO pages VALUES (?,?,?,?)",
                           [(p.id, p.title, p.url, p.disclaimer) for p in pages])
            per_article: dict[str, int] = {}
            for p in passages:
                per_article[p.article_id] = per_article.get(p.article_id, 0) + 1
            db.executemany(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(a.id, num, a.kind, a.title, a.text, a.author, a.credentials, a.source, a.url, a.page,
                  json.dumps(list(a.synonyms), ensure_ascii=False), a.content_hash(), a.origin,
                  per_article.get(a.id, 0))
                 for num, a in enumerate(articles)])
            db.executemany(
                "INSERT INTO passages VALUES (?,?,?,?,?,?,?)",
                [(i, p.article_id, p.position, p.text, p.embed_text,
                  json.dumps(list(p.sentences), ensure_ascii=False), p.text_hash(self.model))
                 for i, p in enumerate(passages)])
            synonyms_of = {a.id: " ".join(text_stems(" ; ".join(a.synonyms))) for a in articles}
            db.executemany(
                "INSERT INTO passages_fts(rowid, body, synonyms) VALUES (?,?,?)",
                [(i, " ".join(text_stems(p.embed_text)), synonyms_of[p.article_id])
                 for i, p in enumerate(passages)])
            counts: dict[str, int] = {}
            for a in articles:
                for word in text_words(f"{a.title} {a.text} {' '.join(a.synonyms)}"):
                    counts[word] = counts.get(word, 0) + 1
            db.executemany("INSERT INTO vocabulary VALUES (?,?)", sorted(counts.items()))
            db.commit()
        finally:
            db.close()


def make_vector_index(vectors: np.ndarray, dimension: int):
    """Exact inner-product search. (An approximate index for very large
    corpora is future work: see the performance issue; one exact query over
    100k x 384 costs ~7 ms on one core.)"""
    index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(vectors)
    return index


class EmbeddingCache:
    """Vectors keyed by (model, text hash), shared by all generations, so an
    unchanged passage is never embedded twice."""

    def __init__(self, path: Path, dimension: int):
        self.path, self.dimension = path, dimension
        self._db = sqlite3.connect(path)
        try:
            with _writing(f"the embedding cache {path}", path):
                self._db.executescript(
                    "PRAGMA journal_mode=WAL;"
                    "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL);")
        except IndexWriteFailed:
            self._db.close()
            raise

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk):
                if len(blob) == 4 * self.dimension:  # a damaged row is simply re-embedded
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with _writing(f"the embedding cache {self.path}", self.path), self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()


class IndexStore:
    """A folder of generations with one live one."""

    def __init__(self, root: Path | str, cache_path: Path | None = None):
        """`cache_path` puts the embedding cache elsewhere (e.g. shared by
        several test or benchmark indexes of the same corpus)."""
        self.root = Path(root)
        self.generations_dir = self.root / "generations"
        self.cache_path = Path(cache_path) if cache_path else self.root / "embeddings.sqlite"

    # -- reading
    def current_name(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def open_generation(self, name: str, verify: bool = False) -> Generation:
        """Open one generation; with `verify`, also compare every file with
        the checksums in its manifest (reads them all once)."""
        generation = Generation(self.generations_dir / name)
        if verify:
            problems = generation.verify_checksums()
            if problems:
                generation.close()
                raise IndexCorrupt(f"generation {name} is damaged: {'; '.join(problems)}")
        return generation

    def open_current(self) -> Generation:
        name = self.current_name()
        if name is None:
            raise IndexMissing(f"no index at {self.root}; build one with "
                               f"`python -m indexer build corpus --index-dir {self.root}` (or `make index`)")
        path = self.generations_dir / name
        if not path.is_dir():
            raise IndexCorrupt(f"{self.root}/CURRENT names generation {name!r}, which does not exist; "
                               f"run `python -m indexer rollback` or rebuild with `python -m indexer build`")
        return Generation(path)

    def generation_names(self) -> list[str]:
        if not self.generations_dir.is_dir():
            return []
        return sorted(p.name for p in self.generations_dir.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    # -- writing (call these while holding `lock()`)
    @contextlib.contextmanager
    def lock(self, wait_seconds: float = 0.0) -> Iterator[None]:
        """One writer at a time. A second one waits up to `wait_seconds`,
        then fails with a message naming the holder."""
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / ".lock", "a+")
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

    def clean_leftovers(self) -> list[str]:
        """Remove staging folders of builds that died; only safe under the lock."""
        removed = []
        if self.generations_dir.is_dir():
            for path in self.generations_dir.iterdir():
                if path.name.startswith(".staging-"):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.name)
        return removed

    def embedding_cache(self, dimension: int) -> EmbeddingCache:
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        return EmbeddingCache(self.cache_path, dimension)

    def new_generation(self, model: str, dimension: int) -> GenerationWriter:
        self.generations_dir.mkdir(parents=True, exist_ok=True)
        existing = [int(n.split("-")[1]) for n in self.generation_names() if n.startswith("gen-")]
        name = f"gen-{(max(existing) + 1) if existing else 1:06d}"
        staging = self.generations_dir / f".staging-{name}-{os.getpid()}"
        staging.mkdir()
        return GenerationWriter(staging, name, model, dimension)

    def publish(self, writer: GenerationWriter) -> Generation:
        """Check the new generation opens, matches its checksums and agrees
        with itself (`indexer.verify`), then make it
        live with one atomic rename of CURRENT. A bad generation is refused
        and the live one stays."""
        final = self.generations_dir / writer.name
        try:
            # Open it, then compare every file with its manifest checksum and
            # run verify's consistency checks: a file damaged between writing
            # and switching is refused here, not found later by readers.
            from indexer.verify import verify_generation
            staged = Generation(writer.staging)
            try:
                problems = verify_generation(staged)
            finally:
                staged.close()
            if problems:
                raise IndexCorrupt(f"generation {writer.staging} is damaged: {'; '.join(problems)}")
        except IndexError_ as err:
            shutil.rmtree(writer.staging, ignore_errors=True)
            raise IndexCorrupt(f"new generation refused, live index unchanged: {err}")
        checkpoint("before-switch")
        os.rename(writer.staging, final)
        self._point_current_to(writer.name)
        self._prune()
        return Generation(final)

    def discard(self, writer: GenerationWriter) -> None:
        shutil.rmtree(writer.staging, ignore_errors=True)

    def rollback(self) -> str:
        current = self.current_name()
        older = [n for n in self.generation_names() if current is None or n < current]
        if not older:
            raise IndexMissing(f"no earlier generation in {self.generations_dir} to roll back to")
        Generation(self.generations_dir / older[-1]).close()
        self._point_current_to(older[-1])
        return older[-1]

    def _point_current_to(self, name: str) -> None:
        tmp = self.root / f".CURRENT.{os.getpid()}.tmp"
        tmp.write_text(name + "\n", "utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / "CURRENT")
        _fsync_dir(self.root)

    def _prune(self) -> None:
        current = self.current_name()
        names = [n for n in self.generation_names() if n != current]
        for name in names[:-(KEEP_GENERATIONS - 1)] if KEEP_GENERATIONS > 1 else names:
            shutil.rmtree(self.generations_dir / name, ignore_errors=True)
