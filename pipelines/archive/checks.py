"""Refusals before any write: a path that is not an Arshif archive, or a file that must not be overwritten.

Everything here only reads (the first bytes of a file, or SQLite opened read-only),
so a refused command leaves the file exactly as it was: no WAL switch, no
migration table, no lock file.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
from pathlib import Path

from pipelines.archive.lock import archive_descriptor

SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATION_SET = "arshif"  # pipelines.archive.database.migrations' name


class ArchiveError(ValueError):
    """A path given as an archive (or as an output) that Arshif refuses to write."""


def check_archive_path(path: str | Path) -> None:
    """Raise ArchiveError unless `path` is absent, empty, or an Arshif archive (or an empty SQLite file)."""
    path = Path(path)
    if path.is_dir():
        raise ArchiveError(f"{path} is a folder, not an archive file; give --db a file such as {path / 'archive.db'}")
    if not path.exists():
        if path.is_symlink():
            raise ArchiveError(f"{path} is a symlink to {os.readlink(path)}, which does not exist")
        return
    if not path.is_file():
        raise ArchiveError(f"{path} is not a regular file")
    try:  # not open() and close(): closing a descriptor of the archive drops this process's SQLite locks on it
        header = os.pread(archive_descriptor(path)[1], len(SQLITE_HEADER), 0)
    except OSError as exc:
        raise ArchiveError(f"{path} cannot be read: {exc.strerror}") from None
    if not header:
        return  # an empty file is an empty SQLite database
    if header != SQLITE_HEADER:
        raise ArchiveError(f"{path} is not an SQLite database; Arshif leaves it alone")
    tables, arshif = _tables(path)
    if tables and not arshif:
        shown = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
        raise ArchiveError(
            f"{path} is an SQLite database but not an Arshif archive (tables: {shown}); "
            "Arshif leaves it alone: give --db a new file or an existing archive"
        )


def _tables(path: Path) -> tuple[set[str], bool]:
    """The database's tables, and whether Arshif's migrations were applied to it, read without writing."""
    real = path.resolve()
    # without a -wal file everything is in the main file: immutable=1 reads it and creates no -wal or -shm
    mode = "mode=ro" if real.with_name(real.name + "-wal").exists() else "immutable=1"
    try:
        connection = sqlite3.connect(f"{real.as_uri()}?{mode}", uri=True)
    except sqlite3.Error as exc:
        raise ArchiveError(f"{path} cannot be opened as SQLite: {exc}") from None
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        arshif = "_sqlite_migrations" in tables and connection.execute(
            "SELECT COUNT(*) FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET]
        ).fetchone()[0] > 0
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"{path} is not a readable SQLite database ({exc}); Arshif leaves it alone") from None
    finally:
        connection.close()
    return tables, arshif


def write_problem(path: str | Path) -> str | None:
    """Why the archive at `path` (or the folder it would be made in) cannot be written, or None."""
    real = Path(path).resolve()
    folder = real.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    for target in (real, folder):
        if not target.exists() or os.access(target, os.W_OK):
            continue
        read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
        return f"cannot write {target}: {'the file system is read-only' if read_only else 'permission denied'}"
    return None


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file (symlinks, `..`, hard links), existing or not."""
    a, b = Path(a), Path(b)
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b) or a.resolve() == b.resolve()
    except OSError:
        return a.resolve() == b.resolve()


def archive_files(db: str | Path) -> list[Path]:
    """The archive and the files SQLite and Arshif keep beside it."""
    real = Path(db).resolve()
    return [real, *(real.with_name(real.name + suffix) for suffix in ("-wal", "-shm", "-journal", ".lock"))]


def precious_file(path: str | Path) -> str | None:
    """Why an existing file must not be overwritten by an output (an SQLite database, a WARC file), or None."""
    path = Path(path)
    if path.is_dir():
        return "is a folder"
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
        if head == SQLITE_HEADER:
            return "is an SQLite database"
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as stream:
                if stream.read(5) == b"WARC/":
                    return "is a WARC file"
        elif head[:5] == b"WARC/":
            return "is a WARC file"
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    return None


def refuse_output(output: str | Path, db: str | Path, what: str = "--output") -> None:
    """Raise ArchiveError when writing `output` would replace the archive, its side files or another database."""
    if any(same_file(output, kept) for kept in archive_files(db)):
        raise ArchiveError(f"{what} {output} is the archive {db} (or one of its files); nothing was written")
    reason = precious_file(output)
    if reason:
        raise ArchiveError(f"{what} {output} {reason}; Arshif does not overwrite it: choose another file")
