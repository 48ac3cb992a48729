"""`python -m bench.sources.run --sites 20`: N local sites with 200-800 ms latency, crawled one
source after another (one `arshif crawl` process each) and then all at once (`arshif crawl --all`).

Each site is the demo site (crawler/demo/site/) served by its own threaded HTTP server on its own
loopback address (127.0.0.2, 127.0.0.3, ...): Scrapy's download slots, robots.txt, AutoThrottle
and DOWNLOAD_DELAY are per host, so each site is a separate host as real sources are. Every answer
waits a random 200-800 ms first (seeded: the same delays each run). The crawls use the shipped
politeness settings (no --local): DOWNLOAD_DELAY 0.25 s, AutoThrottle from 1 s, 4 requests per host.
The sites serve the same pages, so all but the first source's articles are duplicates: the work of
deduplicating is there, the text volume of N distinct sites is not.

Reported: wall time and CPU time (user + system of the crawl process and its extraction workers,
RUSAGE_CHILDREN of this process) for both ways, and their ratios; each way into a fresh archive.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from crawler.demo.server import DEMO_SITE, _Handler

PROJECT_DIR = Path(__file__).resolve().parents[2]


def serve_sites(count: int, low: float, high: float, seed: int = 20) -> list[tuple[ThreadingHTTPServer, str]]:
    rng = random.Random(seed)
    lock = threading.Lock()

    def latency() -> float:
        with lock:
            return rng.uniform(low, high)

    class Slow(_Handler):
        root = DEMO_SITE.resolve()
        extra_routes: ClassVar[dict] = {}
        delay = 0.0
        protocol_version = "HTTP/1.1"  # keep-alive, as news sites answer

        def do_GET(self, head: bool = False):
            time.sleep(latency())
            return super().do_GET(head)

    servers = []
    for number in range(count):
        host = f"127.0.{2 + number // 250}.{2 + number % 250}"
        httpd = ThreadingHTTPServer((host, 0), Slow)
        httpd.daemon_threads = True
        httpd.origin = f"http://{host}:{httpd.server_address[1]}"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append((httpd, httpd.origin))
    return servers


def write_seeds(folder: Path, origins: list[str]) -> Path:
    """One source file per site (the demo's, renamed) and the --base-url-map pointing each at its site."""
    demo = (PROJECT_DIR / "seeds" / "demo.toml").read_text(encoding="utf-8").replace("scheduled = false", "scheduled = true")
    lines = []
    for number, origin in enumerate(origins, 1):
        name = f"site{number:03d}"
        (folder / f"{name}.toml").write_text(demo.replace('name = "demo"', f'name = "{name}"'), encoding="utf-8")
        lines.append(f'{name} = "{origin}"')
    base_map = folder.parent / "base-urls.toml"
    base_map.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return base_map


def timed(argv: list[str]) -> tuple[float, int, str]:
    """Run one `arshif` process; its wall time, exit code and output tail. Its CPU time, and its
    extraction workers' (it waits for them), is added to our RUSAGE_CHILDREN when it is reaped."""
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "crawler.cli.main", *argv], cwd=PROJECT_DIR,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = child.communicate()
    return time.monotonic() - started, child.returncode, (out + err)[-600:]


def cpu_children() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--max-pages", type=int, default=0, help="ARSHIF_MAX_PAGES per source (0: the demo seed's own)")
    parser.add_argument("--low", type=float, default=0.2)
    parser.add_argument("--high", type=float, default=0.8)
    parser.add_argument("--only", default="sequential,all")
    args = parser.parse_args()
    servers = serve_sites(args.sites, args.low, args.high)
    work = Path(tempfile.mkdtemp(prefix="arshif-bench-sources-"))
    seeds = work / "seeds"
    seeds.mkdir()
    base_map = write_seeds(seeds, [origin for _, origin in servers])
    common = ["--log-level", "WARNING", *(["-s", f"ARSHIF_MAX_PAGES={args.max_pages}"] if args.max_pages else [])]
    results = {"sites": args.sites, "latency_s": [args.low, args.high], "max_pages": args.max_pages or "seed's (500)",
               "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    if "sequential" in args.only:
        db = work / "sequential.db"
        cpu, started, codes = cpu_children(), time.monotonic(), []
        for path in sorted(seeds.glob("*.toml")):
            origin = dict(line.split(" = ") for line in base_map.read_text().splitlines())[path.stem].strip('"')
            _, code, _ = timed(["crawl", str(path), "--db", str(db), "--base-url", origin, *common])
            codes.append(code)
        results["sequential"] = {"wall_s": round(time.monotonic() - started, 1), "cpu_s": round(cpu_children() - cpu, 1),
                                 "exit_codes": sorted(set(codes)), "articles": _count(db)}
    if "all" in args.only:
        db = work / "all.db"
        cpu = cpu_children()
        wall, code, tail = timed(["crawl", "--all", "--seeds", str(seeds), "--db", str(db),
                                     "--base-url-map", str(base_map), *common])
        results["all"] = {"wall_s": round(wall, 1), "cpu_s": round(cpu_children() - cpu, 1), "exit_code": code,
                          "articles": _count(db), "summary": tail.strip().splitlines()[-1] if tail.strip() else ""}
    if "sequential" in results and "all" in results:
        results["wall_ratio"] = round(results["sequential"]["wall_s"] / results["all"]["wall_s"], 1)
        results["cpu_ratio"] = round(results["sequential"]["cpu_s"] / max(results["all"]["cpu_s"], 0.1), 1)
    results["load_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    for httpd, _ in servers:
        httpd.shutdown()


def _count(db: Path) -> dict:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("articles", "duplicates", "crawls")}


if __name__ == "__main__":
    main()
