"""The archive's lifecycle over simulated days (issue 18): a two-source site that changes every day
(tests/lifecycle_site.py: new, edited, removed and republished articles, a layout change), an incremental
crawl a day with random `kill -9`s (a seeded RNG picks the moments; each killed crawl is run again), a
`reextract`, a cluster run (real redis-server, two workers a source) merged into the archive with
`arshif merge`, and a crawl on a full disk (a small tmpfs in a mount namespace). After every step the
archive's invariants hold (tests/test_lifecycle_short.check_invariants: integrity, one row per fetched
article URL, complete pages rows, no orphan index rows, FTS in step, WARC references readable), ids
never move, and at the end the archive equals a clean crawl of the same history: the same daily site
states crawled into a fresh archive with the same commands, without kills, reextract, cluster or full
disk. When each kill lands varies with the machine; nothing asserted depends on it.

The short variant runs by default; `-m slow` runs 30 days with at least 20 kills:

    python3 -m pytest -q -s -m slow tests/test_lifecycle_soak.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crawler.demo.server import SiteServer
from tests.conftest import PROJECT_DIR, copy_archive, crawl, run_arshif
from tests.lifecycle_site import SOURCES, History
from tests.mount_namespace import can_mount
from tests.test_lifecycle_short import check_invariants

FAST = ("-s", "ARSHIF_EXTRACT_WORKERS=1", "--log-level", "WARNING")


@dataclass
class Plan:
    days: int
    history: dict
    refresh_days: set[int]
    kill_chance: float  # a crawl is killed (then run again) with this chance; a second time with its square
    reextract_day: int | None = None
    cluster_day: int | None = None
    disk_full_day: int | None = None
    min_kills: int = 0  # kills are added while the run is behind this pace (a kill that comes after the crawl ended is none)
    kill_window: tuple[float, float] = (1.0, 12.0)  # seconds after its start a crawl is killed (uniform)
    seed: int = 18


SHORT = Plan(days=2, history={"edit_every": 2, "remove_every": 2, "copy_every": 2, "near_every": (2, 0), "layout_day": 2},
             refresh_days={2}, kill_chance=0.5, reextract_day=2, min_kills=1, kill_window=(0.5, 2.5))
SLOW = Plan(days=30, history={"big_day": 25, "layout_day": 15, "quiet_day": 20}, refresh_days={7, 13, 19, 28, 30},
            kill_chance=0.6, reextract_day=10, cluster_day=20, disk_full_day=25, min_kills=20)


@dataclass
class Soak:
    plan: Plan
    root: Path
    db: Path
    clean: Path
    origin: str = ""
    rng: random.Random = field(default_factory=random.Random)
    steps: int = 0
    kills: int = 0
    rows_checked: int = 0
    ids: set = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def check(self, what: str) -> None:
        """The invariants after a step, and ids stable: every (id, url) of an article stays."""
        self.steps += 1
        if not self.db.exists() or not _has_archive(self.db):  # the first crawl killed before it made the archive
            assert not self.ids, f"{what}: the archive is gone"
            return
        ids = check_invariants(self.db)
        assert self.ids <= ids, f"{what}: ids moved: {sorted(self.ids - ids)[:5]}"
        self.ids = ids
        with sqlite3.connect(self.db) as conn:
            self.rows_checked += conn.execute("SELECT (SELECT COUNT(*) FROM articles) + (SELECT COUNT(*) FROM duplicates)"
                                              " + (SELECT COUNT(*) FROM pages)").fetchone()[0]

    def crawl(self, source: str, day: int, db: Path | None = None) -> None:
        extra = ("--refresh",) if day in self.plan.refresh_days else ()
        run = crawl(str(self.root / f"{source}.toml"), db or self.db, self.origin, *extra, *FAST)
        assert run.returncode == 0, (day, source, run.stdout[-1000:], run.stderr[-3000:])

    def killed_crawl(self, source: str, day: int) -> None:
        """Start the day's crawl and SIGKILL it at a random moment (startup, listing, articles, closing)."""
        extra = ("--refresh",) if day in self.plan.refresh_days else ()
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli.main", "crawl", str(self.root / f"{source}.toml"), "--db", str(self.db),
             "--base-url", self.origin, "--local", *extra, *FAST, "-s", "ARSHIF_BATCH_SIZE=2"],
            cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.rng.uniform(*self.plan.kill_window)
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            self.kills += 1
        process.wait()
        self.check(f"day {day}: {source} killed")

    def day(self, day: int, history: History, redis: str | None) -> None:
        if day == self.plan.cluster_day and redis:
            self.cluster(day, redis)
        elif day == self.plan.cluster_day:
            self.notes.append(f"day {day}: no redis-server here, the cluster step was a plain crawl")
            for source in SOURCES:
                self.crawl(source, day)
                self.check(f"day {day}: {source}")
        else:
            for source in SOURCES:
                if day == self.plan.disk_full_day and source == SOURCES[0]:
                    self.disk_full(source, day)
                attempts = 0
                while attempts < 2 and (self.rng.random() < self.plan.kill_chance ** (attempts + 1)
                                        or self.kills < self.plan.min_kills * day / self.plan.days):
                    self.killed_crawl(source, day)
                    attempts += 1
                self.crawl(source, day)
                self.check(f"day {day}: {source}")
        urls = history.linked_urls(self.origin, day)
        with sqlite3.connect(self.db) as conn:
            rows = {u for (u,) in conn.execute("SELECT url FROM articles UNION ALL SELECT url FROM duplicates")}
        assert urls <= rows, f"day {day}: linked articles without a row: {sorted(urls - rows)[:5]}"
        if day == self.plan.reextract_day:
            before = _snapshot(self.db)
            result = run_arshif("reextract", "--db", str(self.db))
            assert result.returncode == 0, result.stderr[-3000:]
            ids = self.ids
            self.check(f"day {day}: reextract")
            assert self.ids == ids and _snapshot(self.db) == before  # a reextract changes no row
        for source in SOURCES:  # the reference: the same day, crawled plainly into a fresh archive
            self.crawl(source, day, db=self.clean)

    def cluster(self, day: int, redis: str) -> None:
        """Two workers a source crawl the day into shards of their own (a fresh run), merged into the archive."""
        shards = [self.db.parent.parent / f"shard-{day}-{n}" / "archive.db" for n in (1, 2)]
        for source in SOURCES:
            workers = [subprocess.Popen(
                [sys.executable, "-m", "crawler.cli.main", "crawl", str(self.root / f"{source}.toml"), "--db", str(shard),
                 "--base-url", self.origin, "--local", "--redis", redis, "--run", f"soak-{source}-{day}",
                 "-s", "CONCURRENT_REQUESTS=2", "-s", "ARSHIF_REDIS_WORKER_TIMEOUT=2", *FAST],
                cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for shard in shards]
            for worker in workers:
                _, stderr = worker.communicate(timeout=600)
                assert worker.returncode == 0, stderr[-3000:]
        result = run_arshif("merge", *map(str, shards), "--into", str(self.db))
        assert result.returncode == 0, result.stderr[-3000:]
        self.check(f"day {day}: cluster run merged")

    def disk_full(self, source: str, day: int) -> None:
        """The day's crawl on a disk that fills: the archive copied into a tmpfs a little larger than it, in a
        mount namespace; what the failed run left is copied back, and the day's crawl runs again."""
        flag = can_mount()
        if flag not in ("-m", "-rm"):
            self.notes.append(f"day {day}: disk-full episode skipped: {flag}")
            return
        folder = self.db.parent
        used = sum(-(-p.stat().st_size // 4096) * 4 for p in folder.rglob("*") if p.is_file())  # KB in 4 KB pages
        mount, saved = folder.parent / "small", folder.parent / "after-disk-full"
        mount.mkdir(exist_ok=True)
        command = " ".join([sys.executable, "-m", "crawler.cli.main", "crawl", str(self.root / f"{source}.toml"), "--db",
                            str(mount / folder.name / self.db.name), "--base-url", self.origin, "--local", *FAST])
        script = (f"mount -t tmpfs -o size={used + 64}k tmpfs {mount} && cp -a {folder} {mount}/ && cd {PROJECT_DIR} && "
                  f"{{ {command} > {mount.parent}/full.out 2> {mount.parent}/full.err; rc=$?; }}; "
                  f"cp -a {mount}/{folder.name} {saved}; exit $rc")
        full = subprocess.run(["unshare", flag, "sh", "-c", script], check=False, capture_output=True, text=True, timeout=600)
        stderr = (mount.parent / "full.err").read_text(encoding="utf-8", errors="replace")
        assert full.returncode == 1, (full.returncode, full.stderr, stderr[-3000:])
        assert "the crawl stopped:" in stderr and ("No space left" in stderr or "disk is full" in stderr), stderr[-3000:]
        shutil.rmtree(folder)
        shutil.move(saved, folder)
        with sqlite3.connect(self.db) as conn:
            status, error = conn.execute("SELECT status, error FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
        assert status == "failed" and error, (status, error)
        self.notes.append(f"day {day}: the {source} crawl on a full disk stopped ({error[:80]})")
        self.check(f"day {day}: {source} on a full disk")


def _has_archive(db: Path) -> bool:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles'").fetchone())


def _snapshot(db: Path) -> dict:
    """What must equal a clean crawl's: articles (url, title, text, published) and duplicates by URL and kind."""
    with sqlite3.connect(db) as conn:
        return {"articles": set(conn.execute("SELECT url, title, text, published FROM articles")),
                "duplicates": set(conn.execute("SELECT url, kind FROM duplicates"))}


def _redis(folder: Path):
    binary = shutil.which("redis-server")
    try:
        import redis  # noqa: F401
        import scrapy_redis  # noqa: F401
    except ImportError:
        binary = None
    if binary is None:
        return None, None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.kill()
    return None, None


def _soak(plan: Plan, tmp_path: Path) -> Soak:
    started = time.monotonic()
    history = History(plan.days, seed=plan.seed, **plan.history)
    soak = Soak(plan, tmp_path / "site", tmp_path / "archive" / "archive.db", tmp_path / "clean" / "archive.db",
                rng=random.Random(plan.seed))
    soak.root.mkdir()
    redis_process, redis = _redis(tmp_path) if plan.cluster_day else (None, None)
    try:
        with SiteServer(soak.root) as server:
            soak.origin = server.origin
            for day in range(1, plan.days + 1):
                history.write_day(soak.root, day)
                soak.day(day, history, redis)
    finally:
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
    final, clean = _snapshot(soak.db), _snapshot(soak.clean)
    assert final["articles"] == clean["articles"], (sorted(final["articles"] - clean["articles"])[:3],
                                                    sorted(clean["articles"] - final["articles"])[:3])
    assert final["duplicates"] == clean["duplicates"]
    assert soak.kills >= plan.min_kills, f"only {soak.kills} kills landed"
    copy_archive(soak.db, tmp_path / "final-copy.db")  # the backup API reads it whole
    print(f"\nlifecycle soak: {plan.days} days, {soak.steps} steps checked, {soak.kills} kill -9 survived, "
          f"{soak.rows_checked} rows checked, final archive {len(final['articles'])} articles and "
          f"{len(final['duplicates'])} duplicates equal to a clean crawl's, {time.monotonic() - started:.0f} s")
    for note in soak.notes:
        print(f"  {note}")
    return soak


def test_a_two_day_lifecycle_equals_a_clean_crawl(tmp_path):
    soak = _soak(SHORT, tmp_path)
    assert soak.steps >= 5


@pytest.mark.slow
def test_a_thirty_day_lifecycle_with_twenty_kills_equals_a_clean_crawl(tmp_path):
    soak = _soak(SLOW, tmp_path)
    assert soak.steps >= 60
