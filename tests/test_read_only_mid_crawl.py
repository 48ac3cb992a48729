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

import json
import sqlite3
import subprocess
import sys

import pytest
from sqlite_utils import Database

from bench.throughput.generate import generate
from crawler.demo.server import SiteServer
from tests.conftest import PROJECT_DIR, crawl
from tests.test_write_failures import _can_mount, _check

DRIVER = r"""
import json, os, shutil, sqlite3, subprocess, sys, time
disk, saved, origin, source, out = sys.argv[1:6]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", disk], check=True)
warc = os.path.join(disk, "warc")
os.makedirs(warc)
db = os.path.join(disk, "archive.db")
with open(os.path.join(out, "stdout"), "w") as stdout, open(os.path.join(out, "stderr"), "w") as stderr:
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli.main", "crawl", source, "--db", db, "--base-url", origin, "--local",
         "-s", "ARSHIF_BATCH_SIZE=5", "-s", "ARSHIF_WARC_MAX_SIZE=65536"], stdout=stdout, stderr=stderr)
    committed = 0
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and committed < 5:
        time.sleep(0.1)
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                committed = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        except sqlite3.Error:
            pass
    subprocess.run(["mount", "--bind", warc, warc], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", warc], check=True)
    turned = time.monotonic()
    finished_before = process.poll() is not None
    try:
        code = process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        code = "timeout"
    seconds = time.monotonic() - turned
shutil.copytree(disk, saved)
json.dump({"code": code, "seconds": seconds, "committed": committed, "finished_before": finished_before},
          open(os.path.join(out, "result.json"), "w"))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    generate(300, folder)
    return folder


def test_a_warc_folder_turned_read_only_mid_crawl_fails_the_run_and_the_next_resumes(tmp_path, site):
    flag = _can_mount()
    if flag not in ("-m", "-rm"):
        pytest.skip(f"no read-only file system can be made here: {flag}")
    disk, saved = tmp_path / "disk", tmp_path / "saved"
    disk.mkdir()
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    with SiteServer(site, delay=0.02) as server:  # slow enough that the crawl is mid-way when the folder turns
        run = subprocess.run(["unshare", flag, sys.executable, str(tmp_path / "driver.py"), str(disk), str(saved),
                              server.origin, str(site / "bench.toml"), str(tmp_path)],
                             cwd=PROJECT_DIR, check=False, capture_output=True, text=True, timeout=400)
        assert run.returncode == 0, run.stderr[-3000:]
        result = json.loads((tmp_path / "result.json").read_text())
        stderr = (tmp_path / "stderr").read_text(encoding="utf-8", errors="replace")
        assert result["committed"] >= 5 and not result["finished_before"], result  # the crawl was mid-way
        assert result["code"] == 1, (result, stderr[-3000:])
        assert result["seconds"] < 30, result  # stops within seconds (the whole crawl takes longer)
        assert "the crawl stopped:" in stderr and "Read-only file system" in stderr, stderr[-3000:]
        causes = [line for line in stderr.splitlines() if "Cannot write the archive" in line]
        assert 1 <= len(causes) <= 3, causes  # one line per cause, not one per page
        assert len(stderr) < 200_000 and "<html" not in stderr and "body=b" not in stderr
        assert "Traceback" not in stderr  # no page meets a closed WARC file (ValueError) after the failure
        db_path = saved / "archive.db"
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
