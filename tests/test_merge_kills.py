"""`kill -9` during `arshif merge` loses nothing (issue 18, item 5).

A real crawl of tests/story_site.py is the shard; the merge is run as the real command line in
small batches and dies (os._exit, no cleanup: what kill -9 does) right after its Nth committed
batch, at several N; a rerun must give the archive a clean merge gives, with no index row
naming an article that does not exist.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from sqlite_utils import Database

from crawler.demo.server import SiteServer
from tests.conftest import PROJECT_DIR, archive_snapshot, crawl
from tests.story_site import build

BATCH = 150  # rows of a merge transaction; the index of the crawl writes every 200 signatures


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    root = tmp_path_factory.mktemp("story-site")
    build(root, 250)
    with SiteServer(root) as server:
        run = crawl(str(root / "source.toml"), tmp_path_factory.mktemp("shard") / "shard.db", server.origin,
                    "-s", "ARSHIF_BATCH_SIZE=50")
    assert run.returncode == 0, run.stderr[-3000:]
    return run.db_path


def _merge(shard, target, exit_after: tuple[str, int] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARSHIF_MERGE_BATCH": str(BATCH)}
    if exit_after:
        env[exit_after[0]] = str(exit_after[1])
    return subprocess.run([sys.executable, "-m", "crawler.cli.main", "merge", str(shard), "--into", str(target), "--no-warc"],
                          check=False, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600, env=env)


def _state(target) -> dict:
    db = Database(target)
    conn = db.conn
    ids = {row[0] for row in conn.execute("SELECT id FROM articles")}
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert {row[0] for row in conn.execute("SELECT rowid FROM articles_fts")} == ids
    signed = {row[0] for row in conn.execute("SELECT article_id FROM near_duplicate_signatures")}
    banded = {row[0] for row in conn.execute("SELECT article_id FROM near_duplicate_bands")}
    assert signed <= ids and banded <= ids, "index rows name articles that do not exist"
    url_of = dict(conn.execute("SELECT id, url FROM articles").fetchall())
    return {
        **archive_snapshot(db),
        "texts": set(conn.execute("SELECT url, text FROM articles").fetchall()),
        "bands": {(url_of.get(i), key) for key, i in conn.execute("SELECT band_key, article_id FROM near_duplicate_bands")},
        "signatures": {(url_of[i], bytes(sig)) for i, sig in conn.execute(
            "SELECT article_id, signature FROM near_duplicate_signatures")},
    }


def test_clean_merge_commits_in_several_batches(shard, tmp_path):
    result = _merge(shard, tmp_path / "clean.db")
    assert result.returncode == 0, result.stderr
    articles = Database(shard)["articles"].count
    assert articles > 1.5 * BATCH  # the kill points below fall inside the articles' batches
    assert articles > 200


BATCHES = "ARSHIF_MERGE_EXIT_AFTER_BATCHES"  # right after the Nth committed batch of articles
INDEX_WRITES = "ARSHIF_TEST_EXIT_AFTER_INDEX_WRITES"  # right after the Nth write of near-duplicate index rows


@pytest.mark.parametrize("exit_after", [(BATCHES, 1), (INDEX_WRITES, 1), (BATCHES, 2)], ids=lambda x: f"{x[0][-14:]}={x[1]}")
def test_merge_killed_after_n_batches_then_rerun_equals_a_clean_merge(shard, tmp_path, exit_after):
    clean = tmp_path / "clean.db"
    assert _merge(shard, clean).returncode == 0
    target = tmp_path / "archive.db"
    killed = _merge(shard, target, exit_after)
    assert killed.returncode == 137, (killed.returncode, killed.stderr[-2000:])
    with sqlite3.connect(target) as conn:
        partial = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert partial < Database(shard)["articles"].count  # killed mid-way
    _state(target)  # consistent as the kill left it: no orphan index rows
    rerun = _merge(shard, target)
    assert rerun.returncode == 0, rerun.stderr
    assert _state(target) == _state(clean)
