"""The spider's frontier on disk: URLs waiting to be requested and URLs already seen, in bounded memory.

A news site's sitemaps list every article it has (millions), and a page may
link thousands of new URLs. Both structures keep a fixed-size window in memory
and the rest in one private SQLite file (`sqlite3.connect("")`: a temporary file
SQLite deletes when the connection closes, its page cache bounded), so a crawl's
memory does not grow with what a site lists. Nothing here outlives the process:
with JOBDIR or the cluster's Redis, Scrapy's own queues hold the frontier.

The file lives where SQLite puts temporary files (SQLITE_TMPDIR, else TMPDIR,
else /var/tmp, /usr/tmp, /tmp). When it cannot be written (that folder full,
gone, read-only), the store calls its `on_failure` once with the error and from
then on the frontier is empty and takes nothing (every URL counts as seen): the
crawl, told once, stops cleanly instead of failing in every callback. Nothing
in it was archived; the next run finds those URLs again.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections import deque
from collections.abc import Callable

MEMORY_ENTRIES = 50_000  # ARSHIF_FRONTIER_MEMORY: entries each structure keeps in memory
SPILL_BATCH = 5_000  # entries moved to or from disk at once


class FrontierFailed(RuntimeError):
    """The frontier's temporary file could not be written: the frontier is now empty and takes nothing."""


def temporary_folder() -> str:
    """Where SQLite writes the frontier's file (its unix VFS order), for the message."""
    import os

    return os.environ.get("SQLITE_TMPDIR") or tempfile.gettempdir()


class FrontierStore:
    """The private on-disk SQLite file both structures write to, opened on first use."""

    def __init__(self, cache_kib: int = 4096, on_failure: Callable[[BaseException], None] | None = None):
        self.cache_kib = cache_kib
        self.on_failure = on_failure
        self.failure: BaseException | None = None
        self._conn: sqlite3.Connection | None = None

    def run(self, sql: str, params=(), many: bool = False) -> list:
        """One statement on the file, its rows; FrontierFailed (after one on_failure call) when it cannot be written."""
        if self.failure is not None:
            raise FrontierFailed(str(self.failure))
        try:
            conn = self.conn
            return (conn.executemany(sql, params) if many else conn.execute(sql, params)).fetchall()
        except (sqlite3.Error, OSError) as exc:
            self.failure = exc
            if self.on_failure is not None:
                self.on_failure(exc)
            raise FrontierFailed(str(exc)) from exc

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect("", isolation_level=None)  # "": an anonymous temporary file on disk
            conn.execute(f"PRAGMA cache_size = -{self.cache_kib}")
            conn.execute("PRAGMA journal_mode = OFF")  # a scratch file: nothing to recover after a crash
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("CREATE TABLE pending (id INTEGER PRIMARY KEY, entry TEXT NOT NULL)")
            conn.execute("CREATE TABLE seen (h INTEGER PRIMARY KEY)")
            self._conn = conn
        return self._conn

    @property
    def opened(self) -> bool:
        return self._conn is not None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PendingQueue:
    """A FIFO of packed strings: the first `memory` in a deque, later ones spilled to disk in batches.

    Order is kept: entries go to disk only behind what is already there, and the
    in-memory head is refilled from the oldest rows on disk before the newest
    entries (still in the write buffer) are read.
    """

    def __init__(self, store: FrontierStore, memory: int = MEMORY_ENTRIES, batch: int = SPILL_BATCH):
        self.store = store
        self.memory = max(memory, 1)
        self.batch = max(1, min(batch, self.memory))
        self.head: deque[str] = deque()  # oldest entries, read from here
        self.tail: list[str] = []  # newest entries, waiting to be written behind the disk rows
        self.on_disk = 0
        self.spilled = 0  # entries ever written to disk (the crawl's stats)

    def __len__(self) -> int:
        return len(self.head) + self.on_disk + len(self.tail)

    def __bool__(self) -> bool:
        return bool(self.head) or self.on_disk > 0 or bool(self.tail)

    def append(self, entry: str) -> None:
        if self.store.failure is not None:
            return  # the file failed: the crawl is stopping, nothing more is queued
        if not self.on_disk and not self.tail and len(self.head) < self.memory:
            self.head.append(entry)
            return
        self.tail.append(entry)
        if len(self.tail) >= self.batch:
            self._spill()

    def popleft(self) -> str:
        if not self.head:
            self._refill()
        return self.head.popleft()  # IndexError when empty, as a deque

    def clear(self) -> None:
        self.head.clear()
        self.tail.clear()
        if self.on_disk:
            self.on_disk = 0
            try:
                self.store.run("DELETE FROM pending")
            except FrontierFailed:
                pass

    def _spill(self) -> None:
        try:
            self.store.run("INSERT INTO pending (entry) VALUES (?)", ((entry,) for entry in self.tail), many=True)
        except FrontierFailed:
            self._lost()
            return
        self.on_disk += len(self.tail)
        self.spilled += len(self.tail)
        self.tail.clear()

    def _lost(self) -> None:
        """The file failed: the queue is empty from now on (the crawl is stopping)."""
        self.head.clear()
        self.tail.clear()
        self.on_disk = 0

    def _refill(self) -> None:
        if self.on_disk:
            try:
                rows = self.store.run("SELECT id, entry FROM pending ORDER BY id LIMIT ?", [self.batch])
                self.store.run("DELETE FROM pending WHERE id <= ?", [rows[-1][0]])
            except FrontierFailed:
                self._lost()
                return
            self.on_disk -= len(rows)
            self.head.extend(entry for _, entry in rows)
        elif self.tail:
            self.head.extend(self.tail)
            self.tail.clear()


class SeenUrls:
    """A set of URLs kept as ``hash(url)`` (64-bit SipHash, keyed per process), recent ones in memory, all on disk.

    It holds every URL a crawl has linked or queued: on a news site that is every
    article of the site. Up to `memory` hashes stay in a Python set; when it is
    full they are written to the `seen` table (an integer primary key: 8 bytes a
    URL plus the B-tree's) and the set starts again. A lookup asks the set, then
    the table. Two of a million URLs collide with odds of about 1 in 3.7e7, and
    nobody can make them collide on purpose.
    """

    def __init__(self, store: FrontierStore | None = None, memory: int = MEMORY_ENTRIES):
        self.store = store or FrontierStore()
        self.memory = max(memory, 1)
        self.recent: set[int] = set()
        self.on_disk = 0

    def add(self, url: str) -> None:
        self.recent.add(hash(url))
        if len(self.recent) >= self.memory:
            try:  # sorted: the B-tree is written in key order, not one random page per hash
                self.store.run("INSERT OR IGNORE INTO seen (h) VALUES (?)", ((h,) for h in sorted(self.recent)), many=True)
            except FrontierFailed:
                return  # every URL counts as seen from now on (__contains__)
            self.on_disk += len(self.recent)
            self.recent.clear()

    def __contains__(self, url) -> bool:
        if url is None:
            return False
        if self.store.failure is not None:
            return True  # the file failed: nothing new is queued while the crawl stops
        key = hash(url)
        if key in self.recent:
            return True
        if not self.on_disk:
            return False
        try:
            return bool(self.store.run("SELECT 1 FROM seen WHERE h = ?", [key]))
        except FrontierFailed:
            return True

    def __len__(self) -> int:
        return len(self.recent) + self.on_disk  # at most: a hash written twice is counted twice
