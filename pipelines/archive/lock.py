"""One writer per archive: a second overlapping run exits at once, clearly.

An advisory `flock` on `<archive>.lock`; the kernel drops it when the process
dies, even by SIGKILL, so a killed crawl never leaves a stale lock. The lock is
keyed on the archive's real path (symlinks and `..` resolved), so a run given a
symlink to the archive, or another spelling of its path, meets the same lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


RESERVE = 256 * 1024  # bytes kept in the lock file for the last write of a run on a full disk


class ArchiveLocked(RuntimeError):
    """Another process is writing this archive."""


class ArchiveLock:
    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        real = self.db_path.resolve()  # the file itself, whatever symlink or spelling names it
        self.path = real.with_name(real.name + ".lock")
        self._file = None

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
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        self._reserve()
        return self

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
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> "ArchiveLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
