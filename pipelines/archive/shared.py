"""One writer per archive in a process: the sources of `arshif crawl --all` share it.

Several Scrapy crawlers run in one process (crawler/many_sources.py), one per
source. Each has its own pipelines, but the archive must have ONE writer: one
lock held for the whole run, one SQLite connection that owns every
transaction, one open batch, one near-duplicate index, one article id
counter and one memory of what this run stored, so a copy one source finds
of another source's article in the same run is decided as within one
source's run, and nothing is written concurrently. The runner opens a
`SharedArchive` for the archive's real path; a pipeline built for that
archive finds it with `shared_archive(path)` and keeps the fields that must be
one in its `part(...)` namespace (`SharedField`). Without a runner (one
source, `arshif merge`, tests) every pipeline keeps a private namespace and
behaves as before.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from pipelines.archive.lock import ArchiveLock

_OPEN: dict[Path, SharedArchive] = {}


class SharedArchive:
    """The lock and the shared parts of the pipelines writing one archive in this process."""

    def __init__(self, db_path: str | Path):
        self.lock = ArchiveLock(db_path)
        self._parts: dict[str, SimpleNamespace] = {}
        self.folds: frozenset[frozenset[str]] = frozenset()  # the run's sources' url_fold sets (the runner sets them)
        self.crawlers: dict[int, object] = {}  # crawl id → the crawler whose run it is (write failures stop them all)

    def open(self) -> SharedArchive:
        """Take the archive's lock (ArchiveLocked: another process writes it) and register."""
        if self.lock.path in _OPEN:
            raise RuntimeError(f"{self.lock.path} is already open in this process")
        self.lock.acquire()
        _OPEN[self.lock.path] = self
        return self

    def close(self) -> None:
        _OPEN.pop(self.lock.path, None)
        self.lock.release()

    def part(self, name: str) -> tuple[SimpleNamespace, bool]:
        """The namespace `name` (created empty on first use) and whether this call created it."""
        made = name not in self._parts
        if made:
            self._parts[name] = SimpleNamespace(users=0)
        return self._parts[name], made

    def __enter__(self) -> SharedArchive:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


def shared_archive(db_path: str | Path | None) -> SharedArchive | None:
    """The SharedArchive open in this process for this archive (any spelling of its path), or None."""
    if not db_path or not _OPEN:
        return None
    return _OPEN.get(ArchiveLock(db_path).path)


class SharedField:
    """An attribute kept in the owner's `state` namespace: private to one pipeline, or one for every
    pipeline of the archive when `state` is a SharedArchive part."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return getattr(obj.state, self.name)

    def __set__(self, obj, value) -> None:
        setattr(obj.state, self.name, value)
