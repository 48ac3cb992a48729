"""Time every page of a real `arshif serve` over a bench archive: p50/p95 of N HTTP requests.

    python -m bench.datasette.run --articles 100000 --label after
    python -m bench.datasette.run --articles 100000 --label baseline --code /tmp/base --migrate none

The archive (bench/datasette/build.py) is served under the name `archive`
(`.data/<label>-N/archive.db`), by `python3 -m crawler.cli serve` run in `--code`
(a checkout: the current tree by default, or an exported older commit for the
baseline). `--migrate all` (default) serves a copy opened first with this tree's
`open_archive`, so pending migrations (indexes, FTS rebuild) are applied and
timed; `--migrate none` serves the archive as built. One warm-up request per page, then
N timed requests one after another; the load average is recorded with each page.
Results: `.data/results/<label>-N.json` and a Markdown table on stdout.

    python -m bench.datasette.run --articles 1000000 --archive after --baseline /tmp/base --requests 20

`--baseline CHECKOUT` serves the same archive from that checkout too (e.g. main,
exported with `git archive`) and times both page by page, one request to each
in turn, so both see the same load and page cache; the table has both columns
and their ratio, saved as `.data/results/<baseline-label>-N.json` and `<label>-N.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.datasette.build import DATA, archive_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COMMON, SECOND = "مؤتمر", "وزارة"
PAGES = (
    ("search, common word (10%)", f"/archive/search?q={quote(COMMON)}"),
    ("search, two words", f"/archive/search?q={quote(COMMON + ' ' + SECOND)}"),
    ("search CSV, common word", f"/archive/search.csv?q={quote(COMMON)}"),
    ("articles table with facets", "/archive/articles"),
    ("articles ?_q= + facets", f"/archive/articles?_q={quote(COMMON)}"),
    ("home page (chart)", "/"),
    ("database page", "/archive"),
    ("latest crawls", "/archive/latest_crawls"),
    ("articles without a date", "/archive/articles_without_date"),
    ("duplicate clusters", "/archive/duplicate_clusters"),
    ("sources", "/archive/sources"),
    ("articles per source per day", "/archive/articles_per_source_per_day"),
    ("reading view", "/-/article/4242"),
    ("search, one per story, by date", f"/archive/search?q={quote(COMMON)}&sort=date"),
    ("articles filtered by source", "/archive/articles?source=alahram"),
    ("search every archive (/-/search)", f"/-/search?q={quote(COMMON)}"),
    ("search, one source", f"/archive/search?q={quote(COMMON + ' source:alahram')}"),
    ("search, one source, by date", f"/archive/search?q={quote(COMMON + ' source:alahram')}&sort=date"),
    ("largest stories", "/archive/largest_stories"),
    ("duplicates table with facets", "/archive/duplicates"),
    ("stories (view)", "/archive/stories"),
)
FAILED = ("SQL Interrupted", "Query interrupted", "interrupted")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_copy(articles: int, label: str, migrate: str) -> tuple[Path, float | None]:
    """The archive to serve as `archive`: migrate "all" (a copy, every pending migration through
    open_archive), "indexes" (m030's statements on the built archive itself, not recorded as
    applied: for 1 M, where m031's FTS rebuild does not fit a session) or "none" (as built)."""
    source = archive_path(articles)
    if not source.is_file():
        raise SystemExit(f"no archive at {source}: python -m bench.datasette.build --articles {articles}")
    target = DATA / f"{label}-{articles}" / "archive.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    if migrate != "all":
        if not target.exists():
            target.symlink_to(source)
    elif not target.is_file():
        shutil.copyfile(source, target.with_suffix(".part"))
        target.with_suffix(".part").rename(target)
    started = time.monotonic()
    if migrate == "all":
        from pipelines.archive.database import open_archive

        db = open_archive(target)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    elif migrate == "indexes":
        import sqlite3

        from pipelines.archive.database import _M030_STATEMENTS

        with sqlite3.connect(source) as connection:
            for statement in _M030_STATEMENTS:
                connection.execute(statement)
    else:
        return target, None
    return target, time.monotonic() - started


def fetch(url: str, timeout: float = 120) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def time_pages(base: str, requests: int) -> list[dict]:
    results = []
    for name, path in PAGES:
        fetch(base + path)  # warm-up
        load_before = os.getloadavg()[0]
        times, statuses, failed = [], set(), False
        for _ in range(requests):
            started = time.perf_counter()
            status, body = fetch(base + path)
            times.append((time.perf_counter() - started) * 1000)
            statuses.add(status)
            failed = failed or status >= 400 or any(marker.encode() in body for marker in FAILED)
        results.append({
            "page": name, "path": path, "p50_ms": round(percentile(times, 0.5)), "p95_ms": round(percentile(times, 0.95)),
            "statuses": sorted(statuses), "failed": failed, "bytes": len(body),
            "load": round((load_before + os.getloadavg()[0]) / 2, 1),
        })
        print(f"{name}: p95 {results[-1]['p95_ms']} ms {sorted(statuses)}{' FAILED' if failed else ''}", flush=True)
    return results


def time_pages_paired(bases: list[str], requests: int) -> list[list[dict]]:
    """time_pages for several servers at once: per page, one warm-up each, then one request to each in turn."""
    results: list[list[dict]] = [[] for _ in bases]
    for name, path in PAGES:
        for base in bases:
            fetch(base + path)  # warm-up
        load_before = os.getloadavg()[0]
        times = [[] for _ in bases]
        statuses = [set() for _ in bases]
        failed = [False for _ in bases]
        sizes = [0 for _ in bases]
        for _ in range(requests):
            for index, base in enumerate(bases):
                started = time.perf_counter()
                status, body = fetch(base + path)
                times[index].append((time.perf_counter() - started) * 1000)
                statuses[index].add(status)
                failed[index] = failed[index] or status >= 400 or any(marker.encode() in body for marker in FAILED)
                sizes[index] = len(body)
        load = round((load_before + os.getloadavg()[0]) / 2, 1)
        for index in range(len(bases)):
            results[index].append({
                "page": name, "path": path, "p50_ms": round(percentile(times[index], 0.5)),
                "p95_ms": round(percentile(times[index], 0.95)), "statuses": sorted(statuses[index]),
                "failed": failed[index], "bytes": sizes[index], "load": load,
            })
        print(f"{name}: p95 " + " / ".join(f"{r[-1]['p95_ms']} ms{' FAILED' if r[-1]['failed'] else ''}" for r in results)
              + f" (load {load})", flush=True)
    return results


def serve(code: Path, db: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "crawler.cli", "serve", str(db), "--port", str(port)]
    process = subprocess.Popen(command, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            fetch(f"http://127.0.0.1:{port}/-/versions.json", timeout=5)
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(process.stderr.read().decode())
            time.sleep(0.5)
    process.kill()
    raise SystemExit("arshif serve did not start")


def table(runs: list, every: list[list[dict]]) -> str:
    """p50/p95 per page of one run, or of a baseline and a branch timed together with their ratio (p95)."""
    head = " | ".join(f"{label} p50 | {label} p95" for label, _ in runs)
    ratio = len(runs) == 2
    lines = [f"\n| page | {head} |{' ratio |' if ratio else ''} load |",
             "|---" * (2 * len(runs) + 2 + ratio) + "|"]
    for rows in zip(*every, strict=True):
        cells = " | ".join(f"{r['p50_ms']:,} | {r['p95_ms']:,}{' (failed)' if r['failed'] else ''}" for r in rows)
        extra = f" {rows[1]['p95_ms'] / max(rows[0]['p95_ms'], 1):.2f} |" if ratio else ""
        lines.append(f"| {rows[0]['page']} | {cells} |{extra} {rows[0]['load']} |")
    return "\n".join(lines)


def report() -> str:
    """The p95 of every page, per saved run (.data/results/LABEL-N.json), as one Markdown table."""
    runs = sorted((json.loads(path.read_text(encoding="utf-8")) for path in (DATA / "results").glob("*.json")),
                  key=lambda run: (run["articles"], run["label"] != "baseline"))
    head = " | ".join(f"{run['label']} {run['articles']:,}" for run in runs)
    lines = [f"| page | {head} |", "|---" * (len(runs) + 1) + "|"]
    for name, _ in PAGES:
        cells = []
        for run in runs:
            row = next((r for r in run["pages"] if r["page"] == name), None)
            cells.append("—" if row is None else f"{row['p95_ms']:,} ms{' (failed)' if row['failed'] else ''}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    loads = " | ".join(f"{min(r['load'] for r in run['pages'])}–{max(r['load'] for r in run['pages'])}" for run in runs)
    lines.append(f"| load average (1 min) | {loads} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--label", default="after")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose `arshif serve` is timed")
    parser.add_argument("--migrate", choices=("all", "indexes", "none"), default="all",
                        help="all: a migrated copy; indexes: m030 on the built archive; none: as built (baseline)")
    parser.add_argument("--archive", help="serve .data/ARCHIVE-N/archive.db as it is (e.g. `after`, upgraded by "
                                           "upgrade.py) instead of the copy of --label; implies --migrate none")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--baseline", type=Path, help="also serve the archive from this checkout and time both in turn")
    parser.add_argument("--baseline-label", default="main")
    parser.add_argument("--report", action="store_true", help="print the table of every saved run and stop")
    args = parser.parse_args(argv)
    if args.report:
        print(report())
        return 0
    if args.archive:
        db, migrated = DATA / f"{args.archive}-{args.articles}" / "archive.db", None
        if not db.is_file():
            raise SystemExit(f"no archive at {db}: python -m bench.datasette.upgrade --articles {args.articles} "
                             f"--label {args.archive}")
    else:
        db, migrated = served_copy(args.articles, args.label, args.migrate)
    runs = ([(args.baseline_label, args.baseline)] if args.baseline else []) + [(args.label, args.code)]
    processes, bases = [], []
    try:
        for _, code in runs:
            port = free_port()
            processes.append(serve(code.resolve(), db, port))
            bases.append(f"http://127.0.0.1:{port}")
        if len(bases) == 1:
            every = [time_pages(bases[0], args.requests)]
        else:
            every = time_pages_paired(bases, args.requests)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for (label, code), results in zip(runs, every, strict=True):
        saved = {"articles": args.articles, "label": label, "code": str(code), "requests": args.requests,
                 "archive": str(db), "migration_seconds": migrated, "when": when, "pages": results}
        out = DATA / "results" / f"{label}-{args.articles}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(saved, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(runs, every))
    if migrated is not None:
        print(f"\nmigrations applied in {migrated:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
