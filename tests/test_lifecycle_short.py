"""A short archive lifecycle (issue 18): a few days of the demo site with a killed crawl, a reextract and a
killed merge, checking the archive's invariants after every step. The kill's moment varies; no assertion
depends on it.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

from sqlite_utils import Database

from crawler.demo.server import DEMO_SITE, SiteServer
from pipelines.archive.warc import read_response
from tests.conftest import PROJECT_DIR, archive_snapshot, crawl, run_arshif
from tests.test_archiving import NEW_ARTICLE


def check_invariants(db_path) -> dict:
    """The archive's invariants; returns the (id, url) pairs of its articles."""
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ids = dict(conn.execute("SELECT id, url FROM articles").fetchall())
        duplicated = [url for (url,) in conn.execute("SELECT url FROM duplicates")]
        urls = [*ids.values(), *duplicated]
        assert len(urls) == len(set(urls)), "a URL has two rows"
        kept = conn.execute("SELECT url FROM pages WHERE role = 'article' AND outcome IN ('stored', 'duplicate')").fetchall()
        assert {url for (url,) in kept} <= set(urls), "a page marked stored or duplicate has no row"
        incomplete = conn.execute(
            "SELECT url FROM pages WHERE url IN (SELECT url FROM articles UNION SELECT url FROM duplicates) AND"
            " (role IS NULL OR status IS NULL OR fetched_at IS NULL OR crawl_id IS NULL OR warc_file IS NULL"
            "  OR outcome IS NULL)").fetchall()
        assert not incomplete, incomplete
        assert {url for (url,) in conn.execute("SELECT url FROM pages")} >= set(urls), "a row without its pages row"
        assert {row[0] for row in conn.execute("SELECT rowid FROM articles_fts")} == set(ids), "FTS out of step"
        for table in ("near_duplicate_signatures", "near_duplicate_bands"):
            orphans = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE article_id NOT IN (SELECT id FROM articles)").fetchone()
            assert orphans == (0,), f"orphan rows in {table}"
        assert not conn.execute("SELECT 1 FROM duplicates WHERE duplicate_of NOT IN (SELECT id FROM articles)").fetchall()
        warc = db_path.parent / "warc"
        for table in ("articles", "duplicates"):
            for url, name, offset, length in conn.execute(f"SELECT url, warc_file, warc_offset, warc_length FROM {table}"):
                stored = read_response(warc, name, offset, length)
                assert stored is not None and stored.url == url, (table, url)
        return set(ids.items())
    finally:
        conn.close()


def _add_article(site, number: int) -> None:
    (site / "articles" / f"{number}.html").write_text(NEW_ARTICLE.replace("جسراً جديداً", f"جسراً جديداً رقم {number}"),
                                                      encoding="utf-8")
    index = (site / "index.html").read_text(encoding="utf-8")
    (site / "index.html").write_text(index.replace("</body>", f'<a href="/articles/{number}.html">جسر</a></body>'),
                                     encoding="utf-8")


def _killed_crawl(db_path, origin) -> None:
    """A crawl killed (SIGKILL) once its first article page row is committed, or at its end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli.main", "crawl", "demo", "--db", str(db_path), "--base-url", origin,
         "--local", "-s", "ARSHIF_BATCH_SIZE=1", "-s", "CONCURRENT_REQUESTS=2"],
        cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = sqlite3.connect(db_path).execute("SELECT MAX(id) FROM crawls").fetchone()[0]
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with sqlite3.connect(db_path, timeout=1) as conn:
                row = conn.execute("SELECT COUNT(*) FROM pages WHERE crawl_id > ? AND role = 'article'", [before]).fetchone()
            if row[0]:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_a_short_lifecycle_keeps_every_invariant(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    db_path = tmp_path / "archive" / "archive.db"
    steps = 0
    with SiteServer(site) as server:
        first = crawl("demo", db_path, server.origin)  # day 1
        assert first.returncode == 0, first.stderr[-2000:]
        ids = check_invariants(db_path)
        steps += 1
        _add_article(site, 1017)  # day 2: a new article; the crawl is killed, then run again
        _killed_crawl(db_path, server.origin)
        check_invariants(db_path)
        again = crawl("demo", db_path, server.origin)
        assert again.returncode == 0, again.stderr[-2000:]
        day2 = check_invariants(db_path)
        assert ids <= day2  # ids stable
        assert len(day2) == len(ids) + 1
        steps += 2
        _add_article(site, 1018)  # day 3
        third = crawl("demo", db_path, server.origin)
        assert third.returncode == 0, third.stderr[-2000:]
        day3 = check_invariants(db_path)
        assert day2 <= day3 and len(day3) == len(day2) + 1
        steps += 1
    before = archive_snapshot(Database(db_path))
    result = run_arshif("reextract", "--db", str(db_path))  # day 4: reextract
    assert result.returncode == 0, result.stderr
    assert check_invariants(db_path) == day3
    assert archive_snapshot(Database(db_path)) == before
    steps += 1
    merged = tmp_path / "merged" / "archive.db"  # day 5: the archive merged into another, killed once
    killed = subprocess.run([sys.executable, "-m", "crawler.cli.main", "merge", str(db_path), "--into", str(merged)],
                            check=False, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "ARSHIF_MERGE_BATCH": "5", "ARSHIF_MERGE_EXIT_AFTER_BATCHES": "1"})
    assert killed.returncode == 137, killed.stderr[-2000:]
    result = run_arshif("merge", str(db_path), "--into", str(merged))
    assert result.returncode == 0, result.stderr
    check_invariants(merged)
    assert archive_snapshot(Database(merged)) == before
    steps += 2
    assert steps == 7
