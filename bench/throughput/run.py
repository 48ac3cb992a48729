"""Throughput benchmark: fetch only (a), the naive pipeline (b) and Arshif's pipeline (c), in one session.

    python -m bench.throughput.run --pages 10000 [--only a,b,c] [--no-stages]

Generates (or reuses) the site of N article pages under /tmp/arshif-bench,
serves it with crawler.demo.server.SiteServer in its own process, then runs each
crawl in its own subprocess while sampling that process tree from /proc every
0.2 s. Prints pages/s, CPU seconds per page (crawler process and its pool
workers), peak RSS (summed over the tree) and PSS, the server's CPU per page,
what the rest of the machine used meanwhile, the ratios c/a and c/b, and the
per-stage costs of (c). Results also go to /tmp/arshif-bench/results/*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.throughput.generate import ensure_site
from bench.throughput.monitor import TreeMonitor, _stat

PROJECT_DIR = Path(__file__).resolve().parents[2]
WORK = Path("/tmp/arshif-bench")
MODES = {"a": "fetch", "b": "naive", "c": "arshif", "d": "fetch-seen"}
LABELS = {"a": "(a) fetch only", "b": "(b) naive pipeline", "c": "(c) Arshif pipeline", "d": "(d) fetch, links deduped"}
_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICKS


def wait_until_quiet(limit: float, max_other_cores: float = 0.3, own: tuple[int, ...] = ()) -> float:
    """Wait (up to `limit` s) until other processes use < `max_other_cores` for 2 s; return their load."""
    deadline = time.monotonic() + limit
    while True:
        before = machine_busy_seconds()
        own_before = sum((_stat(pid) or (0, 0.0, 0))[1] for pid in own)
        time.sleep(2)
        own_after = sum((_stat(pid) or (0, 0.0, 0))[1] for pid in own)
        load = (machine_busy_seconds() - before - (own_after - own_before)) / 2
        if load < max_other_cores or time.monotonic() >= deadline:
            return load


class Server:
    """bench/throughput/serve.py in a subprocess; stops when its stdin closes."""

    def __init__(self, root: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.throughput.serve", str(root)],
            cwd=PROJECT_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.origin = self.process.stdout.readline().strip()
        if not self.origin.startswith("http://"):
            raise SystemExit(f"the site server did not start (got {self.origin!r})")

    def cpu_seconds(self) -> float:
        stat = _stat(self.process.pid)
        return stat[1] if stat else 0.0

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def run_mode(key: str, site: Path, server: Server, args) -> dict:
    workdir = WORK / "runs" / f"{args.pages}-{key}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    out = workdir / "result.json"
    other_before = wait_until_quiet(args.quiet_wait, own=(server.process.pid,)) if args.quiet_wait else None
    command = [sys.executable, "-m", "bench.throughput.child", MODES[key], "--source", str(site / "bench.toml"),
               "--origin", server.origin, "--workdir", str(workdir), "--out", str(out),
               "--log-level", args.log_level, "--concurrency", str(args.concurrency)]
    for setting in args.set if key == "c" else ():
        command += ["-s", setting]
    for patch in args.what_if if key == "c" else ():
        command += ["--what-if", patch]
    code_state = git_state()  # the code under test: other work may change it between crawls
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, server_before = machine_busy_seconds(), server.cpu_seconds()
    started = time.monotonic()
    log = (workdir / "crawl.log").open("w")
    process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT)
    monitor = TreeMonitor(process.pid, interval=0.2).start()
    code = process.wait()
    monitor.stop()
    log.close()
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy, server_cpu = machine_busy_seconds() - busy_before, server.cpu_seconds() - server_before
    if code != 0 or not out.is_file():
        tail = (workdir / "crawl.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"{LABELS[key]} failed (exit {code}); log tail:\n{tail}")
    result = json.loads(out.read_text(encoding="utf-8"))
    pages = result["stats"]["downloader/response_count"] or 0
    rusage_cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    cpu = max(monitor.cpu_seconds, rusage_cpu)
    main_cpu = monitor.cpu_by_pid.get(process.pid, 0.0)
    reactor_cpu = monitor.root_main_thread_cpu or main_cpu
    server_ms = server_cpu * 1000 / pages if pages else 0.0
    return {
        "mode": key,
        "label": LABELS[key],
        "git": code_state,
        "pages": pages,
        "crawl_seconds": round(result["seconds"], 2),
        "process_seconds": round(wall, 2),
        "pages_per_s": round(pages / result["seconds"], 1) if result["seconds"] else 0.0,
        "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_page": round(cpu * 1000 / pages, 2) if pages else None,
        "main_process_cpu_ms_per_page": round(main_cpu * 1000 / pages, 2) if pages else None,
        "workers_cpu_ms_per_page": round((cpu - main_cpu) * 1000 / pages, 2) if pages else None,
        "reactor_thread_cpu_ms_per_page": round(reactor_cpu * 1000 / pages, 2) if pages else None,
        "main_threads_cpu_ms_per_page": {name: round(cpu_s * 1000 / pages, 2) for name, cpu_s in
                                         sorted(monitor.root_thread_cpu.items(), key=lambda kv: -kv[1])[:8]} if pages else {},
        "cpu_sources": {"proc_tree": round(monitor.cpu_seconds, 2), "rusage_children": round(rusage_cpu, 2)},
        "peak_rss_mb": round(monitor.peak_rss / 2**20, 1),
        "peak_pss_mb": round(monitor.peak_pss / 2**20, 1),
        "processes": monitor.peak_processes,
        "by_process": monitor.by_role(),
        "server_cpu_ms_per_page": round(server_ms, 2) if pages else None,
        "cpu_bound_pages_per_s": cpu_bound_rate(reactor_cpu, cpu, server_cpu, pages),
        "other_load_cores": round(max(0.0, busy - cpu - server_cpu) / wall, 2),
        "other_load_before": None if other_before is None else round(other_before, 2),
        "busy_cores_by_tenth": monitor.busy_cores(10),
        "rss_series_mb": [(t, round(r / 2**20)) for t, r in monitor.rss_series[:: max(1, len(monitor.rss_series) // 60)]],
        "stats": result["stats"],
        "gc": result.get("gc"),
        "crawls_row": result.get("crawls_row"),
        "warc_mb": round(result.get("warc_bytes", 0) / 2**20, 1) if "warc_bytes" in result else None,
    }


def cpu_bound_rate(reactor_cpu: float, tree_cpu: float, server_cpu: float, pages: int, cores: int | None = None) -> float | None:
    """Pages/s an otherwise idle machine would reach if CPU were the only limit.

    The reactor (the main process's main thread) gets at most 1 s of CPU per
    second; everything (crawler with its threads, pool workers, site server)
    shares the cores.
    """
    if not pages or not reactor_cpu:
        return None
    cores = cores or os.cpu_count() or 1
    return round(min(pages / reactor_cpu, cores * pages / (tree_cpu + server_cpu)), 1)


def git_state() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line[3:] for line in git("status", "--short").splitlines() if line[3:].startswith(("crawler/", "pipelines/"))]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_pipeline_files": changed}


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import scrapy
    import trafilatura

    return (f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, Python {platform.python_version()}, "
            f"Scrapy {scrapy.__version__}, trafilatura {trafilatura.__version__}")


def format_results(runs: dict[str, dict], manifest: dict | None = None) -> str:
    header = (f"{'crawl':<22} {'pages':>6} {'pages/s':>8} {'CPU-bound':>9} {'CPU ms/page':>11} {'main ms/p':>9} {'reactor ms/p':>12} {'pool ms/p':>9} "
              f"{'peak RSS MB':>11} {'peak PSS MB':>11} {'server ms/p':>11} {'other load':>10}")
    lines = [header]
    for key in "abcd":
        run = runs.get(key)
        if run is None:
            continue
        lines.append(
            f"{run['label']:<22} {run['pages']:>6} {run['pages_per_s']:>8.1f} {run['cpu_bound_pages_per_s'] or 0:>9.1f} "
            f"{run['cpu_ms_per_page']:>11.2f} "
            f"{run['main_process_cpu_ms_per_page']:>9.2f} {run.get('reactor_thread_cpu_ms_per_page') or 0:>12.2f} "
            f"{run['workers_cpu_ms_per_page']:>9.2f} "
            f"{run['peak_rss_mb']:>11.1f} {run['peak_pss_mb']:>11.1f} {run['server_cpu_ms_per_page']:>11.2f} "
            f"{run['other_load_cores']:>10.2f}"
        )
    lines.append("pages/s: measured; CPU-bound: min(1 core / reactor-thread CPU, all cores / (crawler + pool + server CPU)) per page;"
                 " main: the crawl process, all its threads; reactor: its main thread")
    for key in "abcd":
        if key in runs:
            parts = [f"{role} {len(v['peak_rss_mb'])}x peak {max(v['peak_rss_mb'])} MB, {v['cpu_seconds']} CPU s"
                     for role, v in runs[key]["by_process"].items()]
            lines.append(f"{runs[key]['label']} processes: " + "; ".join(parts))
            busy = runs[key].get("busy_cores_by_tenth")
            if busy:
                lines.append(f"{runs[key]['label']} cores busy (crawl tree, reactor thread) by tenth of the run: "
                             + " ".join(f"{tree:.2f}/{reactor:.2f}" for tree, reactor in busy))
            collections = runs[key].get("gc")
            if collections and runs[key]["pages"]:
                lines.append(f"{runs[key]['label']} garbage collection in the crawl process: "
                             f"{collections['seconds'] * 1000 / runs[key]['pages']:.2f} ms/page, "
                             f"runs by generation {collections['runs']}")
            threads = runs[key].get("main_threads_cpu_ms_per_page")
            if threads:
                lines.append(f"{runs[key]['label']} main-process threads, CPU ms/page: "
                             + ", ".join(f"{name.split(' ', 1)[-1]} {ms}" for name, ms in threads.items()))
    if "c" in runs:
        for other in "ab":
            if other in runs and runs[other]["pages_per_s"]:
                c, o = runs["c"], runs[other]
                lines.append(f"c/{other}: {c['pages_per_s'] / o['pages_per_s']:.2f}x pages/s measured, "
                             f"{(c['cpu_bound_pages_per_s'] or 0) / (o['cpu_bound_pages_per_s'] or 1):.2f}x CPU-bound, "
                             f"{c['cpu_ms_per_page'] / o['cpu_ms_per_page']:.2f}x CPU per page")
        row = runs["c"].get("crawls_row") or {}
        lines.append("(c) outcomes: " + ", ".join(f"{k} {row.get(k)}" for k in (
            "pages_fetched", "stored", "duplicate", "not_arabic", "not_article", "extraction_failed", "http_error")))
        if manifest:
            e = manifest["expected"]
            lines.append(f"the site holds: {e['original']} originals, {e['exact'] + e['near']} copies "
                         f"({e['exact']} exact, {e['near']} near, of which {e['near_same_body_tokens']} differ only in "
                         f"spelling/headline), {e['foreign']} English/Persian, {e['gallery']} galleries")
    return "\n".join(lines)


def check_targets(runs: dict[str, dict], pages: int) -> list[str]:
    """The issue's targets, as lines of text (no assertion: this is a benchmark)."""
    lines = []
    c = runs.get("c")
    if c is None:
        return lines
    at = f" (at {pages} pages)" if pages != 10_000 else ""
    bound = c["cpu_bound_pages_per_s"] or 0
    lines.append(f"target (c) >= 150 pages/s on 2 cores at 10,000 pages{at}: measured {c['pages_per_s']:.1f}, "
                 f"CPU-bound {bound:.1f} pages/s -> {'met' if max(c['pages_per_s'], bound) >= 150 else 'NOT met'}")
    if "b" in runs:
        ratio = c["pages_per_s"] / runs["b"]["pages_per_s"]
        bound_ratio = bound / (runs["b"]["cpu_bound_pages_per_s"] or 1)
        lines.append(f"target (c) >= 6x (b) in the same run: measured {ratio:.2f}x, CPU-bound {bound_ratio:.2f}x -> "
                     f"{'met' if max(ratio, bound_ratio) >= 6 else 'NOT met'}")
    lines.append(f"target peak RSS <= 350 MB: {c['peak_rss_mb']:.0f} MB (PSS {c['peak_pss_mb']:.0f} MB) -> "
                 f"{'met' if c['peak_rss_mb'] <= 350 else 'NOT met'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10_000, help="article pages of the generated site (default 10,000)")
    parser.add_argument("--only", default="a,b,c",
                        help="crawls to run, e.g. c or a,c (default a,b,c); d: (a) with links de-duplicated in the spider")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--sample", type=int, default=300, help="pages for the stage costs")
    parser.add_argument("--no-stages", action="store_true", help="skip the stage-cost breakdown")
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="before each crawl, wait up to this many seconds for other processes to go quiet (0: no wait)")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra setting for the Arshif crawl (c), e.g. ARSHIF_EXTRACT_WORKERS=1")
    parser.add_argument("--what-if", action="append", default=[], choices=("seen-links",),
                        help="bench-only patch of (c): seen-links = NewsSpider._links skips URLs already yielded")
    parser.add_argument("--tag", default="", help="a word added to the results file name (a variant's name)")
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    if not keys or any(k not in MODES for k in keys):
        parser.error("--only takes a, b, c and/or d")

    site, manifest = ensure_site(args.pages, seed=args.seed)
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(f"site: {site} ({manifest['pages']} articles, {manifest['urls_total']} URLs, "
          f"{manifest['mean_article_kb']} KB/article); {machine()}; {started_at}; git {git_state()}", flush=True)
    server = Server(site)
    runs: dict[str, dict] = {}
    try:
        for key in keys:
            print(f"running {LABELS[key]} ...", flush=True)
            runs[key] = run_mode(key, site, server, args)
            run = runs[key]
            print(f"  {run['pages']} pages in {run['crawl_seconds']} s: {run['pages_per_s']} pages/s, "
                  f"{run['cpu_ms_per_page']} CPU ms/page, peak RSS {run['peak_rss_mb']} MB, "
                  f"other load {run['other_load_cores']} cores", flush=True)
    finally:
        server.close()

    print()
    print(format_results(runs, manifest))
    for line in check_targets(runs, args.pages):
        print(line)
    stages = None
    if "c" in keys and not args.no_stages:
        from bench.throughput.stages import format_table, measure

        print()
        stages = measure(site, args.sample)
        print(format_table(stages))
    (WORK / "results").mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = WORK / "results" / f"{args.pages}-{''.join(keys)}{'-' + args.tag if args.tag else ''}-{stamp}.json"
    path.write_text(json.dumps({"started_at": started_at, "machine": machine(), "git": git_state(),
                                "command": " ".join(sys.argv), "settings": args.set, "what_if": args.what_if,
                                "manifest": manifest, "runs": runs, "stages": stages}, ensure_ascii=False, indent=1),
                    encoding="utf-8")
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
