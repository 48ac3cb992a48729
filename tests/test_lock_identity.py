"""The archive lock follows the file, not its name (issue 18, item 6): hard links to one archive exclude each other.

A hard link is another path to the same inode, so it has its own `<name>.lock`; the lock on the
archive file itself is what two runs through two links meet. Real processes, a real crawl.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from pipelines.archive.lock import ArchiveLock, ArchiveLocked
from tests.conftest import PROJECT_DIR, crawl

HOLDER = """
import sys
from pipelines.archive.lock import ArchiveLock
lock = ArchiveLock(sys.argv[1]).acquire()
print("held", flush=True)
sys.stdin.read()
"""


def _crawls(db_path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM crawls").fetchone()[0]


def test_hard_links_in_two_folders_meet_one_lock(tmp_path):
    from pipelines.archive.database import open_archive

    real = tmp_path / "data" / "archive.db"
    real.parent.mkdir()
    open_archive(real).close()
    (tmp_path / "backup").mkdir()
    link = tmp_path / "backup" / "archive.db"
    os.link(real, link)
    with ArchiveLock(real):
        try:
            ArchiveLock(link).acquire()
        except ArchiveLocked as exc:
            assert "another Arshif run" in str(exc) and "hard link" in str(exc)
        else:
            raise AssertionError("a hard link to the archive was not locked")
    with ArchiveLock(link):  # released: the link can be locked, and then the real name cannot
        try:
            ArchiveLock(real).acquire()
        except ArchiveLocked:
            pass
        else:
            raise AssertionError("the archive was not locked through its hard link")
    ArchiveLock(real).acquire().release()


def test_a_crawl_into_a_hard_link_of_an_archive_another_process_writes_exits_3(tmp_path, demo_site):
    real = tmp_path / "archive.db"
    assert crawl("demo", real, demo_site.origin).returncode == 0
    link = tmp_path / "elsewhere" / "archive.db"
    link.parent.mkdir()
    os.link(real, link)
    before = _crawls(real)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(link)], cwd=PROJECT_DIR, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = crawl("demo", real, demo_site.origin, "--refresh")
        assert result.returncode == 3, result.stderr[-2000:]
        assert "another Arshif run" in result.stderr
        assert _crawls(real) == before  # it wrote nothing
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # a killed holder leaves no stale lock
        holder.wait()
    result = crawl("demo", real, demo_site.origin)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _crawls(real) == before + 1



def _posix_locks(path) -> list[str]:
    """The POSIX (fcntl) locks this process holds on the file, as the kernel lists them."""
    inode, pid = os.stat(path).st_ino, str(os.getpid())
    with open("/proc/locks") as listing:
        return [line.strip() for line in listing
                if line.split()[1] == "POSIX" and line.split()[4] == pid and line.split()[5].endswith(f":{inode}")]


def test_opening_the_archive_again_in_a_process_keeps_sqlites_locks_on_it(tmp_path):
    """`open_archive` checks the file first (its header): read with open() and close(), that close dropped every
    POSIX lock of the process on the archive, SQLite's own (a close of any descriptor of a file does). Without
    its shared lock, a reader in another process that closes takes itself for the last user of the database and
    may checkpoint and delete the write-ahead log under this process's connection: a crawl's commits lost (seen
    as a `crawls` row left `running` in tests/test_read_only_mid_crawl.py). The header is now read through a
    descriptor kept open (pipelines.archive.lock.archive_descriptor)."""
    from pipelines.archive.database import open_archive

    if not os.path.exists("/proc/locks"):
        pytest.skip("no /proc/locks to read the kernel's locks from")
    db_path = tmp_path / "archive.db"
    open_archive(db_path).close()
    db = open_archive(db_path)
    try:
        db.execute("SELECT COUNT(*) FROM crawls").fetchall()
        held = _posix_locks(db_path)
        assert held, "SQLite holds a shared lock on an open WAL database"
        open_archive(db_path).close()  # a second component of the process opens the archive
        assert _posix_locks(db_path) == held
    finally:
        db.close()
