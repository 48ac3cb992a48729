"""Shared fixtures: a real HTTP server for the demo site and a real crawl of it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlite_utils import Database

from bench.quality.corpus import SHARED_DIR  # ../shared, or ARSHIF_SHARED_DIR
from crawler.cli.common import DATASETTE_DIR
from crawler.demo.server import DEMO_SITE, SiteServer

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class CrawlRun:
    db_path: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def db(self) -> Database:
        return Database(self.db_path)

    def last_crawl(self) -> dict:
        row = next(self.db.query("SELECT * FROM crawls ORDER BY id DESC LIMIT 1"))
        row["stats"] = json.loads(row["stats"] or "{}")
        return row


def run_arshif(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real `arshif` command line in a subprocess (a fresh Twisted reactor)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli.main", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def crawl(source: str, db_path: Path, origin: str, *extra: str) -> CrawlRun:
    result = run_arshif("crawl", source, "--db", str(db_path), "--base-url", origin, "--local", *extra)
    return CrawlRun(db_path, result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def demo_site():
    with SiteServer(DEMO_SITE) as site:
        yield site


@pytest.fixture(scope="session")
def manifest() -> dict:
    return json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_crawl(demo_site, tmp_path_factory) -> CrawlRun:
    """One crawl of the demo site into a fresh archive, shared by the crawl tests."""
    db_path = tmp_path_factory.mktemp("demo") / "archive.db"
    run = crawl("demo", db_path, demo_site.origin)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.skip(f"{SHARED_DIR} is absent: the shared seed pages and quality-gate pages are not here")
    return SHARED_DIR


def copy_archive(source: Path, target: Path) -> Path:
    """A consistent copy of a live SQLite archive (the backup API, WAL included)."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    return target


def archive_snapshot(db: Database) -> dict:
    """What an archive holds, independent of the order pages came in (ids, fetch times and crawl ids may differ):
    the articles, the duplicates by URL and kind with the URL they copy, the partition into stories, the originals."""
    url_of = dict(db.execute("SELECT id, url FROM articles").fetchall())
    members: dict[int, set] = {}
    for story, url in db.execute("SELECT story_id, url FROM articles"):
        members.setdefault(story, set()).add(url)
    return {
        "articles": set(db.execute("SELECT url, title, text, published FROM articles").fetchall()),
        "duplicates": {(url, kind, url_of[of]) for url, kind, of in db.execute("SELECT url, kind, duplicate_of FROM duplicates")},
        "stories": {frozenset(urls) for urls in members.values()},
        "originals": {url_of[row[0]] for row in db.execute("SELECT original_id FROM stories")},
    }


def make_datasette(db_path, metadata: dict | None = None):
    """Datasette as `arshif serve` configures it, for its ASGI test client."""
    import yaml
    from datasette.app import Datasette

    metadata = metadata or yaml.safe_load((DATASETTE_DIR / "metadata.yaml").read_text(encoding="utf-8"))
    return Datasette(
        [str(db_path)],
        metadata=metadata,
        plugins_dir=str(DATASETTE_DIR / "plugins"),
        template_dir=str(DATASETTE_DIR / "templates"),
        static_mounts=[("arshif-static", str(DATASETTE_DIR / "static"))],
        settings={"sql_time_limit_ms": 3000, "suggest_facets": False, "max_csv_mb": 0},
    )


@pytest.fixture
def archive_db(demo_crawl, tmp_path) -> Path:
    """A private copy of the demo archive, safe to modify."""
    return copy_archive(demo_crawl.db_path, tmp_path / "archive.db")
