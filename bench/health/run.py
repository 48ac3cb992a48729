"""Time the health view at a million articles: `arshif status` and the `/-/health` page, p50/p95.

    cp bench/datasette/.data/archive-1000000.db /tmp/health-bench.db     # a copy: --prepare writes to it
    python -m bench.health.run --db /tmp/health-bench.db --prepare
    python -m bench.health.run --db /tmp/health-bench.db --label before --drop-indexes --requests 3
    python -m bench.health.run --db /tmp/health-bench.db --label after --requests 20

`--prepare` turns bench/datasette's archive (20 sources, 2023-2025, one crawl per
source per week) into one an hourly service would have: the articles of the
archive's last 60 days are moved to end now, and a year of hourly runs is added for
every source (175,200 `crawls` rows with a 2 KB stats JSON each; two sources failing
for their last 30 runs, one storing nothing for 48 runs, warnings on 2% of one
source's runs). It applies m080's statements itself (the bench archive predates
m007-m031, whose FTS rebuild does not fit a session). `--drop-indexes` removes
m080's indexes: the baseline is an archive not yet migrated by a crawl.

Each timing is one full `arshif status --json` process (Python start-up included; `arshif
status --help` is timed too, the start-up alone),
one HTTP GET of `/-/health` and of `/-/health.json` through a real `arshif serve`, and
one in-process `collect()`; one warm-up each, then N one after another. The load
average is recorded. Results: bench/health/results/<label>.json and a Markdown row.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipelines.archive.database import _M080_STATEMENTS

RESULTS = Path(__file__).resolve().parent / "results"
M080_INDEXES = ("idx_crawls_source_runs", "idx_crawls_source_warned", "idx_articles_source_fetched")
HOURS = 24 * 365
STATS = {f"downloader/response_status_count/{code}": 0 for code in (200, 301, 304, 404, 500, 503)}


def _stats(rng: random.Random) -> str:
    stats = {**{key: rng.randint(0, 500) for key in STATS}, **{f"arshif/{k}": rng.randint(0, 50) for k in (
        "stored", "duplicate", "already_archived", "not_article", "not_arabic", "extraction_failed", "http_error",
        "skipped_archived", "not_modified", "warc_records")},
        "robotstxt/forbidden": rng.randint(0, 3), "finish_reason": "finished", "log_count/INFO": rng.randint(10, 90)}
    stats.update({f"scheduler/{k}": rng.randint(0, 9999) for k in ("enqueued", "dequeued", "enqueued/memory", "dequeued/memory")})
    stats["padding"] = "x" * 1400  # a real run's stats JSON is 2-4 KB
    return json.dumps(stats, sort_keys=True)


def prepare(db: Path) -> None:
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA journal_mode = wal")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    latest = connection.execute("SELECT MAX(fetched_at) FROM articles").fetchone()[0]
    shift = (now.date() - datetime.fromisoformat(latest).date()).days
    connection.execute("BEGIN")
    started = time.monotonic()
    if shift > 1:
        since = (datetime.fromisoformat(latest) - timedelta(days=60)).isoformat(timespec="seconds")
        moved = connection.execute(
            "UPDATE articles SET fetched_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', fetched_at, ?) WHERE fetched_at >= ?",
            [f"+{shift - 1} days", since]).rowcount
        print(f"moved {moved} articles of the last 60 days by {shift - 1} days", flush=True)
    sources = [row[0] for row in connection.execute("SELECT DISTINCT source FROM articles ORDER BY source")]
    if connection.execute("SELECT COUNT(*) FROM crawls").fetchone()[0] < 100_000:
        rng = random.Random(20)
        failing, empty, warned = sources[:2], sources[2], sources[3]
        rows = []
        for hour in range(HOURS, 0, -1):
            at = (now - timedelta(hours=hour)).isoformat(timespec="seconds")
            for source in sources:
                status, stored, warning = "finished", rng.randint(0, 12), None
                if source in failing and hour <= 30:
                    status, stored = "failed", 0
                if source == empty and hour <= 48:
                    stored = 0
                if source == warned and rng.random() < 0.02:
                    warning = f"source {source}: 9 of 10 article pages (90%) yielded no article; has the site's layout changed?"
                faults = json.dumps({"http_503": rng.randint(0, 5)} if rng.random() < 0.3 else {})
                rows.append((source, at, at, status, 40, stored, _stats(rng), faults, warning,
                             "disk full" if status == "failed" else None))
        connection.executemany(
            "INSERT INTO crawls (source, started_at, finished_at, status, pages_fetched, stored, stats, faults, warning, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        print(f"added {len(rows)} hourly crawls rows", flush=True)
    connection.execute("COMMIT")
    print(f"prepared in {time.monotonic() - started:.1f} s", flush=True)
    create_indexes(connection)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def create_indexes(connection) -> float:
    started = time.monotonic()
    connection.execute("BEGIN")
    for statement in _M080_STATEMENTS:
        connection.execute(statement)
    connection.execute("COMMIT")
    return time.monotonic() - started


def drop_indexes(db: Path) -> None:
    connection = sqlite3.connect(db, isolation_level=None)
    for name in M080_INDEXES:
        connection.execute(f"DROP INDEX IF EXISTS {name}")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"n": len(times), "p50_ms": round(statistics.median(ordered) * 1000),
            "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000),
            "max_ms": round(ordered[-1] * 1000)}


def _timed(action, requests: int) -> dict:
    action()  # warm-up
    times = []
    for _ in range(requests):
        started = time.monotonic()
        action()
        times.append(time.monotonic() - started)
    return _summary(times)


def serve(db: Path):
    from crawler.cli.serve import datasette_command

    log = open(db.with_name("health-bench-datasette.log"), "wb")  # noqa: SIM115 (closed with the server)
    server = subprocess.Popen(datasette_command(str(db), "127.0.0.1", 0), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not (found := re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)",
                                  db.with_name("health-bench-datasette.log").read_text())):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("datasette did not start")
        time.sleep(0.2)
    return server, log, found.group(1)


def run(db: Path, label: str, requests: int) -> dict:
    from crawler.cli.status import seeded_source_names
    from pipelines.archive.health import collect, open_readonly

    results = {"label": label, "db": str(db), "requests": requests, "load_before": os.getloadavg()[0],
               "articles": sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("SELECT MAX(id) FROM articles").fetchone()[0],
               "crawls": sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("SELECT COUNT(*) FROM crawls").fetchone()[0]}
    seeded = seeded_source_names()

    def in_process():
        connection = open_readonly(db)
        try:
            collect(connection, seeded)
        finally:
            connection.close()

    results["collect (in process)"] = _timed(in_process, requests)
    start_up = [sys.executable, "-m", "crawler.cli", "status", "--help"]  # the same process without the archive
    results["arshif status --help (start-up only)"] = _timed(
        lambda: subprocess.run(start_up, cwd=ROOT, capture_output=True, check=True), requests)
    command = [sys.executable, "-m", "crawler.cli", "status", "--db", str(db), "--json"]
    results["arshif status --json"] = _timed(lambda: subprocess.run(command, cwd=ROOT, capture_output=True, check=True),
                                             requests)
    server, log, origin = serve(db)
    try:
        pages = (("/-/health", "/-/health"), ("/-/health.json", "/-/health.json"),
                 ("home page (baseline)", "/"), ("a static file (baseline: an empty request)", "/arshif-static/arshif.css"))
        for name, path in pages:
            def get(path=path):
                with urllib.request.urlopen(origin + path, timeout=600) as response:
                    assert response.status == 200
                    response.read()
            results[name] = _timed(get, requests)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    results["load_after"] = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{label}.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a COPY of a bench archive (--prepare writes to it)")
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--drop-indexes", action="store_true", help="baseline: without m080's indexes")
    parser.add_argument("--create-indexes", action="store_true")
    parser.add_argument("--label")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.db)
    if args.drop_indexes:
        drop_indexes(args.db)
    if args.create_indexes:
        connection = sqlite3.connect(args.db, isolation_level=None)
        print(f"m080 indexes built in {create_indexes(connection):.1f} s")
        connection.close()
    if args.label:
        results = run(args.db, args.label, args.requests)
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
