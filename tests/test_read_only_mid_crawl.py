"""A WARC folder that turns read-only in the middle of a crawl (issue 18, item 11).

The crawl runs in its own mount namespace (`unshare -m`, or `-rm` without root) on a tmpfs. Once it
has committed articles, its WARC folder is bind-mounted over itself and that bind remounted
read-only: a file system cannot be remounted read-only while a file on it is open for writing,
but the new mount has no writers, so every file the crawl opens or creates there from then on
(its next WARC file, a CDXJ index) fails with EROFS, as on a disk the kernel turned read-only.
The crawl must stop within seconds, mark its run failed with the reason, log one line per cause,
exit 1, and the next run (on a copy of what it left) must resume cleanly.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from bench.throughput.generate import generate
from crawler.demo.server import SiteServer
from tests.conftest import crawl
from tests.mount_namespace import ARTICLES_COMMITTED, run_on_small_disk
from tests.test_write_failures import _check


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    generate(300, folder)
    return folder


def test_a_warc_folder_turned_read_only_mid_crawl_fails_the_run_and_the_next_resumes(tmp_path, site):
    with SiteServer(site, delay=0.02) as server:  # slow enough that the crawl is mid-way when the folder turns
        run = run_on_small_disk(tmp_path, ["crawl", str(site / "bench.toml"), "--base-url", server.origin, "--local",
                                           "-s", "ARSHIF_BATCH_SIZE=5", "-s", "ARSHIF_WARC_MAX_SIZE=65536"],
                                "256m", until=ARTICLES_COMMITTED, at_least=5, wait_seconds=120)
        result, stderr = {"code": run.code, "seconds": run.seconds, "committed": run.committed}, run.stderr
        assert run.committed >= 5 and not run.finished_before, result  # the crawl was mid-way
        assert run.code == 1, (result, stderr[-3000:])
        assert run.seconds < 30, result  # stops within seconds (the whole crawl takes longer)
        assert "the crawl stopped:" in stderr and "Read-only file system" in stderr, stderr[-3000:]
        causes = [line for line in stderr.splitlines() if "Cannot write the archive" in line]
        assert 1 <= len(causes) <= 3, causes  # one line per cause, not one per page
        assert len(stderr) < 200_000 and "<html" not in stderr and "body=b" not in stderr
        assert "Traceback" not in stderr  # no page meets a closed WARC file (ValueError) after the failure
        db_path = run.saved / "archive.db"
        row = next(Database(db_path).query("SELECT * FROM crawls ORDER BY id DESC LIMIT 1"))
        assert row["status"] == "failed" and "Read-only file system" in row["error"], row
        _check(db_path)
        stored = Database(db_path)["articles"].count
        resumed = crawl(str(site / "bench.toml"), db_path, server.origin)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        clean = crawl(str(site / "bench.toml"), tmp_path / "clean" / "archive.db", server.origin)
    _check(db_path)
    with sqlite3.connect(db_path) as conn:
        last = conn.execute("SELECT status FROM crawls ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert last == "finished"
    query = "SELECT url FROM articles UNION ALL SELECT url FROM duplicates ORDER BY 1"
    assert [r["url"] for r in Database(db_path).query(query)] == [r["url"] for r in clean.db.query(query)]
    assert stored < clean.db["articles"].count
