"""One writer per archive: a second overlapping run exits at once, clearly.

An advisory `flock` on `<archive>.lock`; the kernel drops it when the process
dies, even by SIGKILL, so a killed crawl never leaves a stale lock. The lock is
keyed on the archive's real path (symlinks and `..` resolved), so a run given a
symlink to the archive, or another spelling of its path, meets the same lock.
A hard link is another path to the same file: a second `flock` on the archive
file itself (its inode, whatever name reaches it) makes runs through two hard
links exclude each other too.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


RESERVE = 256 * 1024  # bytes kept in the lock file for the last write of a run on a full disk


class ArchiveLocked(RuntimeError):
    """Another process is writing this archive."""


# One read-only descriptor per archive file (st_dev, st_ino), open until the process exits. Never closed:
# closing ANY descriptor of a file drops every POSIX lock the process holds on it, SQLite's own included
# (SQLite locks with fcntl; `flock` locks are separate from those on Linux, so this one does not disturb them).
_FILE_DESCRIPTORS: dict[tuple[int, int], int] = {}
_HELD_FILES: set[tuple[int, int]] = set()  # files an ArchiveLock of this process holds (flock does not exclude an fd from itself)


def archive_descriptor(path: str | Path) -> tuple[tuple[int, int], int]:
    """The process's read-only descriptor of this file and the file's identity (st_dev, st_ino); OSError when it
    cannot be opened. Read an archive's bytes through it (`os.pread`), never through an `open()` that is then
    closed: that close would drop the locks SQLite holds on the file in this process, and another process
    could then take the database for unused and delete its write-ahead log under this one's connections."""
    info = os.stat(path)
    key = (info.st_dev, info.st_ino)
    if key not in _FILE_DESCRIPTORS:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        opened = os.fstat(fd)
        key = (opened.st_dev, opened.st_ino)  # the file opened, should it have been replaced since the stat
        _FILE_DESCRIPTORS.setdefault(key, fd)
    return key, _FILE_DESCRIPTORS[key]


class ArchiveLock:
    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        real = self.db_path.resolve()  # the file itself, whatever symlink or spelling names it
        self.path = real.with_name(real.name + ".lock")
        self._file = None
        self._held: tuple[int, int] | None = None  # the archive file's identity, once its own flock is held

    def acquire(self) -> "ArchiveLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ArchiveLocked(
                f"another Arshif run (pid {holder}) is writing {self._named()}; "
                "this run exits without touching it"
            ) from None
        self._file = handle
        try:
            self.hold_file()
        except ArchiveLocked:
            self.release()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._reserve()
        return self

    def hold_file(self) -> None:
        """Lock the archive file itself (its inode), so a run through a hard link (another path, so another
        `.lock` file) meets this run. A new archive has no file yet at `acquire`: the crawl calls this
        again once it has created it. Raises ArchiveLocked (the path lock is kept: the caller releases)."""
        if self._held is not None or self._file is None:
            return
        try:
            key, fd = archive_descriptor(self.db_path)
        except OSError:
            return
        try:
            if key in _HELD_FILES:
                raise BlockingIOError
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveLocked(
                f"another Arshif run is writing {self._named()} under another name (a hard link to the same file); "
                "this run exits without touching it"
            ) from None
        _HELD_FILES.add(key)
        self._held = key

    def _reserve(self) -> None:
        """Pad the lock file with RESERVE bytes: when the disk fills, freeing them lets the run record
        that it failed (its `crawls` row). Best effort: a full disk leaves no reserve."""
        try:
            self._file.write(" " * RESERVE)
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError:
            self._file.seek(0)
            self._file.truncate()
            self._file.write(f"{os.getpid()}\n")
            self._file.flush()

    def fileno(self) -> int:
        return self._file.fileno()

    def free_reserve(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate(len(f"{os.getpid()}\n"))
            self._file.flush()

    def _named(self) -> str:
        real = self.path.with_suffix("")
        return str(self.db_path) if Path(os.path.abspath(self.db_path)) == real else f"{self.db_path} (that is {real})"

    def release(self) -> None:
        if self._held is not None:
            fcntl.flock(_FILE_DESCRIPTORS[self._held], fcntl.LOCK_UN)
            _HELD_FILES.discard(self._held)
            self._held = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> "ArchiveLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
