"""kill -9 at random points never corrupts the archive; readers see consistent data."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlite_utils import Database

from crawler.demo.server import DEMO_SITE, SiteServer
from pipelines.archive.database import migrations, open_archive
from tests.conftest import PROJECT_DIR, crawl, make_datasette
from tests.gated_site import HANG_GUARD, gate_requests, wait_until


def _start(db_path, origin) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli.main", "crawl", "demo", "--db", str(db_path), "--base-url", origin,
         "--local", "-s", "ARSHIF_BATCH_SIZE=1", "-s", "CONCURRENT_REQUESTS=4"],
        cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _check_consistent(db_path) -> None:
    """Integrity, no half-made schema, no half-written article, no duplicate, FTS in step with articles."""
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "_sqlite_migrations" not in tables:  # killed before the first migrations committed: nothing made yet
            assert tables == set(), tables
            return
        applied = {row[0] for row in connection.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [migrations.name])}
        assert applied == {migration.name for migration in migrations._migrations}
        half = connection.execute(
            "SELECT COUNT(*) FROM articles WHERE text IS NULL OR text = '' OR title IS NULL OR content_hash IS NULL"
        ).fetchone()[0]
        assert half == 0
        assert connection.execute("SELECT COUNT(*) - COUNT(DISTINCT url) FROM articles").fetchone()[0] == 0
        assert connection.execute("SELECT COUNT(*) - COUNT(DISTINCT content_hash) FROM articles").fetchone()[0] == 0
        both = connection.execute(
            "SELECT COUNT(*) FROM duplicates d JOIN articles a ON a.url = d.url"
        ).fetchone()[0]
        assert both == 0
        articles = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        indexed = connection.execute("SELECT COUNT(*) FROM articles_fts").fetchone()[0]
        assert articles == indexed


def _kill_loop(tmp_path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    clean_db, killed_db = tmp_path / "clean.db", tmp_path / "killed.db"
    survived = 0
    with SiteServer(site) as server:
        assert crawl("demo", clean_db, server.origin).returncode == 0
        server.httpd.RequestHandlerClass.delay = 0.05
        for _ in range(kills):
            process = _start(killed_db, server.origin)
            time.sleep(rng.uniform(0.3, 3.0))  # anywhere: start-up, fetching, mid-write, closing
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            if killed_db.exists():
                _check_consistent(killed_db)
            survived += 1
        server.httpd.RequestHandlerClass.delay = 0
        resumed = crawl("demo", killed_db, server.origin)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _check_consistent(killed_db)
    query = "SELECT url FROM articles UNION ALL SELECT url FROM duplicates ORDER BY 1"
    assert [r["url"] for r in Database(killed_db).query(query)] == [r["url"] for r in Database(clean_db).query(query)]
    hashes = "SELECT content_hash FROM articles ORDER BY 1"
    assert list(Database(killed_db).query(hashes)) == list(Database(clean_db).query(hashes))
    assert survived == kills


def test_kill_9_at_random_points_then_resume(tmp_path):
    _kill_loop(tmp_path, kills=3, seed=1)


@pytest.mark.slow
def test_kill_9_twenty_times_then_resume(tmp_path):
    _kill_loop(tmp_path, kills=20, seed=20)


async def test_datasette_reads_consistent_data_while_a_crawl_writes(tmp_path):
    db_path = tmp_path / "archive.db"
    # the site holds its pages after the 20th until 3 reads are done: the crawl cannot end before them (a fixed
    # time to read in was too short on a loaded machine), and goes on writing while more reads come
    with SiteServer(delay=0.2) as server, gate_requests(server, 20) as gate:  # slow enough for several reads
        process = _start(db_path, server.origin)
        try:
            wait_until(lambda: _has_schema(db_path) or process.poll() is not None, "the crawl's archive made")
            ds = make_datasette(db_path)
            seen = []
            deadline = time.monotonic() + HANG_GUARD
            while process.poll() is None and time.monotonic() < deadline:
                response = await ds.client.get(
                    "/archive.json?sql=select+(select+count(*)+from+articles)+as+a,"
                    "+(select+count(*)+from+articles_fts)+as+f&_shape=array"
                )
                assert response.status_code == 200, response.text
                row = response.json()[0]
                assert row["a"] == row["f"]  # one transaction: both or neither
                seen.append(row["a"])
                if len(seen) >= 3:
                    gate.open()
                await asyncio.sleep(0.1)
        finally:
            process.wait(timeout=HANG_GUARD)
    assert process.returncode == 0
    assert seen == sorted(seen) and len(seen) >= 3


def _has_schema(db_path) -> bool:
    """The crawl's migrations are committed (all or nothing): its tables can be read."""
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'articles_fts'").fetchone()[0] > 0
    except sqlite3.OperationalError:
        return False


def test_migrations_are_all_or_nothing(tmp_path, monkeypatch):
    """A failure (or a kill) during the migrations leaves no half-made schema for the next run to trip on."""
    def m999_fails(db):
        db["half_made"].create({"id": int}, pk="id")
        raise RuntimeError("disk gone")

    monkeypatch.setattr(migrations, "_migrations", [*migrations._migrations, migrations._Migration("m999_fails", m999_fails)])
    db_path = tmp_path / "archive.db"
    with pytest.raises(RuntimeError, match="disk gone"):
        open_archive(db_path)
    with sqlite3.connect(db_path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert tables == []
    monkeypatch.undo()
    db = open_archive(db_path)  # the next run makes the whole schema
    assert {"articles", "articles_fts", "pages", "crawls"} <= set(db.table_names())
    db.close()
