"""Cluster benchmark: 1, 2 and 3 `arshif crawl --redis` workers over one large local site.

    python -m bench.cluster.run --pages 2000 [--workers 1,2,3] [--delay 0] [--concurrency 16]

Reuses bench/throughput/generate.py's site (N article pages of ~22 KB with
listings and a sitemap index, under /tmp/arshif-bench/cluster/), serves it in
its own process (crawler.demo.server.SiteServer; `--delay` seconds per request
stands for a distant, slow site), starts a private redis-server, then for each
worker count runs that many workers at once, each into its own shard, and
merges the shards. Prints one Markdown table: wall time (first worker started
to last worker exited, start-up included), pages/s, speed-up over one worker,
CPU seconds per page (workers and their extraction processes, site server,
Redis), and the merge. A plain crawl without Redis is the first row. Results
also go to /tmp/arshif-bench/cluster/results-*.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.throughput.generate import ensure_site  # noqa: E402
from bench.throughput.monitor import TreeMonitor  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[2]
WORK = Path("/tmp/arshif-bench/cluster")
_TICKS = os.sysconf("SC_CLK_TCK")


def _serve(root: str, delay: float, pipe) -> None:
    from crawler.demo.server import SiteServer

    with SiteServer(Path(root), delay=delay) as site:
        site.httpd.socket.listen(128)  # socketserver's backlog of 5 overflows under 16+ concurrent connects
        pipe.send(site.origin)
        pipe.recv()  # serve until told to stop


def _machine_busy_seconds() -> float:
    """CPU seconds spent by everything on the machine (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / _TICKS


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (Debian: apt-get install -y redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return process, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def run_workers(count: int, site: Path, origin: str, redis_url: str | None, args, helpers: tuple[int, int]) -> dict:
    """`count` workers at once (0: one plain crawl, no Redis); return timings and counts.

    `helpers`: the pids of the site server and redis-server, whose CPU is counted too.
    """
    workdir = WORK / "runs" / f"{args.pages}-{count}-delay{args.delay}"
    shutil.rmtree(workdir, ignore_errors=True)
    shards = [workdir / f"worker-{n}" / f"shard-{n}.db" for n in range(1, max(count, 1) + 1)]
    cluster = ["--redis", redis_url, "--run", f"bench-{count}-{int(time.time())}"] if count else []
    settings = [f"CONCURRENT_REQUESTS={args.concurrency}", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}", *args.set]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    helpers_before, busy_before = [_cpu_seconds(pid) for pid in helpers], _machine_busy_seconds()
    started = time.monotonic()
    processes = []
    for shard in shards:
        shard.parent.mkdir(parents=True)
        command = [sys.executable, "-m", "crawler.cli.main", "crawl", str(site / "bench.toml"), "--db", str(shard),
                   "--base-url", origin, "--local", "--log-level", "WARNING", *cluster,
                   *(part for setting in settings for part in ("-s", setting))]
        with open(shard.with_suffix(".log"), "w") as log:
            processes.append(subprocess.Popen(command, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT))
    # each worker's tree: its extraction processes are the forkserver's children, which rusage misses
    monitors = [TreeMonitor(process.pid, interval=0.2).start() for process in processes]
    for process, shard in zip(processes, shards):
        if process.wait() != 0:
            raise SystemExit(f"worker failed: {shard.with_suffix('.log').read_text()[-3000:]}")
    wall = time.monotonic() - started
    tree_cpu = sum(monitor.stop().cpu_seconds for monitor in monitors)
    peak_rss_mb = round(sum(monitor.peak_rss for monitor in monitors) / 2**20)
    busy = _machine_busy_seconds() - busy_before
    server_cpu, redis_cpu = (_cpu_seconds(pid) - before for pid, before in zip(helpers, helpers_before))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = max(tree_cpu, (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime))
    pages = stored = 0
    per_worker = []
    for shard in shards:
        with sqlite3.connect(shard) as connection:
            fetched, kept = connection.execute("SELECT SUM(pages_fetched), SUM(stored) FROM crawls").fetchone()
        pages, stored = pages + (fetched or 0), stored + (kept or 0)
        per_worker.append(fetched or 0)
    merge_seconds, merged_articles = _merge(workdir, shards)
    return {"workers": count, "wall_seconds": round(wall, 2), "pages": pages, "per_worker_pages": per_worker,
            "stored_in_shards": stored, "merged_articles": merged_articles, "crawl_cpu_seconds": round(cpu, 2),
            "peak_rss_mb": peak_rss_mb,
            "server_cpu_seconds": round(server_cpu, 2), "redis_cpu_seconds": round(redis_cpu, 2),
            "other_load_cores": round(max(0.0, busy - cpu - server_cpu - redis_cpu) / wall, 2),  # other work on the machine
            "merge_seconds": merge_seconds}


def _merge(workdir: Path, shards: list[Path]) -> tuple[float, int]:
    target = workdir / "merged" / "archive.db"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "crawler.cli.main", "merge", *map(str, shards), "--into", str(target)],
                   cwd=PROJECT_DIR, check=True, capture_output=True)
    seconds = round(time.monotonic() - started, 2)
    with sqlite3.connect(target) as connection:
        return seconds, connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]


def table(results: list[dict]) -> str:
    base = next((r for r in results if r["workers"] == 1), None)
    lines = [
        "| workers | pages | wall s | pages/s | speed-up | pages per worker | CPU ms/page (crawl + server + Redis) "
        "| other load (cores) | articles (merged) | merge s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rate = r["pages"] / r["wall_seconds"]
        speedup = f"{rate / (base['pages'] / base['wall_seconds']):.2f}×" if base else ""
        cpu = (r["crawl_cpu_seconds"] + r["server_cpu_seconds"] + r["redis_cpu_seconds"]) * 1000 / r["pages"]
        label = "1, no Redis" if r["workers"] == 0 else str(r["workers"])
        lines.append(f"| {label} | {r['pages']} | {r['wall_seconds']:.1f} | {rate:.1f} | {speedup} | "
                     f"{' / '.join(map(str, r['per_worker_pages']))} | {cpu:.1f} | {r['other_load_cores']:.2f} | "
                     f"{r['merged_articles']} | {r['merge_seconds']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--workers", default="0,1,2,3", help="worker counts to run; 0 is a plain crawl without Redis")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds the site waits before each answer")
    parser.add_argument("--concurrency", type=int, default=16, help="CONCURRENT_REQUESTS of each worker")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each worker count; the fastest is reported")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="a setting for every worker")
    args = parser.parse_args(argv)
    site, _ = ensure_site(args.pages, WORK / f"site-{args.pages}")
    receive, send = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(str(site), args.delay, send), daemon=True)
    server.start()
    origin = receive.recv()
    redis_process, redis_url = start_redis(WORK / "redis")
    counts = [int(n) for n in args.workers.split(",")]
    runs: dict[int, list[dict]] = {count: [] for count in counts}
    try:
        for _ in range(args.repeat):  # interleaved, so a burst of other work on the machine hits every count alike
            for count in counts:
                result = run_workers(count, site, origin, redis_url, args, helpers=(server.pid, redis_process.pid))
                runs[count].append(result)
                print(json.dumps(result), flush=True)
    finally:
        receive.send("stop")
        server.join(timeout=10)
        redis_process.terminate()
        redis_process.wait(timeout=10)
    results = [min(runs[count], key=lambda r: r["wall_seconds"]) for count in counts]  # best of --repeat
    print(f"\n{args.pages} article pages, delay {args.delay} s, CONCURRENT_REQUESTS={args.concurrency} per worker, "
          f"best of {args.repeat}, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}\n")
    print(table(results))
    out = WORK / f"results-{args.pages}-delay{args.delay}-c{args.concurrency}.json"
    out.write_text(json.dumps({"args": vars(args), "best": results, "runs": runs}, indent=2))
    print(f"\n{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
