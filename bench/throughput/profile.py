"""Where Arshif's crawl (c) spends its CPU, in ms per page: py-spy over the whole process tree, cProfile per record.

    python -m bench.throughput.profile --pages 2000 [--top 25] [--rate 100]

1. py-spy (pip install py-spy) samples the crawler and its pool workers
   (`--subprocesses`, CPU only: idle threads are not sampled) during a full
   crawl of the generated site; samples are split by process (the reactor's
   main process vs the pool workers) and turned into ms per fetched page, by
   own time and by inclusive time.
2. cProfile runs pipelines.extraction.records.make_record (the worker's unit of work) on
   a sample of pages in this process: exact call counts and ms per page.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.throughput.generate import ensure_site
from bench.throughput.monitor import TreeMonitor
from bench.throughput.run import PROJECT_DIR, WORK, Server


def py_spy() -> str:
    found = shutil.which("py-spy") or next((str(p) for p in Path("/tmp/pyspy/bin").glob("py-spy")), None)
    if not found:
        raise SystemExit("py-spy not found: pip install py-spy (or pip install --target /tmp/pyspy py-spy)")
    return found


def record(site: Path, pages: int, rate: int, extra: list[str]) -> tuple[Path, dict]:
    """Run crawl (c) under py-spy; return the raw (folded) samples file and the crawl result."""
    workdir = WORK / "runs" / f"{pages}-c-profile"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    raw = workdir / "pyspy.folded"
    server = Server(site)
    try:
        command = [py_spy(), "record", "--subprocesses", "--threads", "--rate", str(rate), "--format", "raw", "--output", str(raw),
                   "--", sys.executable, "-m", "bench.throughput.child", "arshif", "--source", str(site / "bench.toml"),
                   "--origin", server.origin, "--workdir", str(workdir), "--out", str(workdir / "result.json")]
        for setting in extra:
            command += ["-s", setting]
        with (workdir / "crawl.log").open("w") as log:
            process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT)
            monitor = TreeMonitor(process.pid, interval=0.2, with_pss=False).start()
            if process.wait() != 0:
                raise SystemExit(f"py-spy run failed; see {workdir / 'crawl.log'}")
            monitor.stop()
    finally:
        server.close()
    result = json.loads((workdir / "result.json").read_text(encoding="utf-8"))
    result["measured_cpu"] = measured_cpu(monitor)
    (workdir / "result.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return raw, result


def measured_cpu(monitor: TreeMonitor) -> dict:
    """CPU seconds from /proc of the crawler's main process and of its pool workers (py-spy itself excluded)."""
    parents, roles = monitor.parent_by_pid, monitor.role_by_pid
    crawler = [pid for pid, parent in parents.items() if parent == monitor.root]
    workers = [pid for pid, parent in parents.items() if roles.get(parent) == "forkserver" and roles.get(pid) == "forkserver"]
    return {
        "main": round(sum(monitor.cpu_by_pid.get(pid, 0.0) for pid in crawler), 2),
        "worker": round(sum(monitor.cpu_by_pid.get(pid, 0.0) for pid in workers), 2),
        "py-spy": round(monitor.cpu_by_pid.get(monitor.root, 0.0), 2),
    }


# py-spy --subprocesses nests a child's stack under its parents' 'process PID:"COMMAND LINE"' frames:
# one such frame is the crawler's main process, three a pool worker (main → forkserver → worker).
_PROCESS_RE = re.compile(r'process \d+:"[^"]*";?')
_ROLES = {1: "main", 2: "forkserver/tracker", 3: "worker"}


def _short(frame: str) -> str:
    # "function (path/to/module.py:LINE)" → "function (module.py)": lines split one function into many rows
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = path.split("/")
    return f"{name} ({'/'.join(parts[-2:])})"


def summarize(raw: Path, pages: int, rate: int, top: int, measured: dict | None = None) -> dict:
    """ms per page by function; with `measured` CPU seconds, samples are scaled to them per process.

    py-spy counts a thread that is runnable but waiting for a core as active, so
    on a busy machine raw samples overstate CPU; the shares stay right.
    """
    own: dict[str, Counter] = defaultdict(Counter)
    inclusive: dict[str, Counter] = defaultdict(Counter)
    totals, threads = Counter(), Counter()
    for line in raw.open(encoding="utf-8", errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        role = _ROLES.get(len(_PROCESS_RE.findall(stack)), "other")
        frames = [f for f in _PROCESS_RE.sub("", stack).split(";") if f]
        thread = frames[0] if frames and frames[0].startswith("thread ") else None
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        if role == "main" and thread is not None:
            threads[thread] += int(count)
        n = int(count)
        totals[role] += n
        own[role][_short(frames[-1])] += n
        for frame in {_short(f) for f in frames}:
            inclusive[role][frame] += n
    raw_ms = 1000.0 / rate / pages  # one sample ≈ 1/rate s
    scale = {role: raw_ms for role in totals}
    if measured:
        for role in ("main", "worker"):
            if totals.get(role) and measured.get(role):
                scale[role] = measured[role] * 1000.0 / pages / totals[role]
    result = {"pages": pages, "rate": rate, "normalized_to_measured_cpu": bool(measured),
              "sampled_ms_per_page": {r: round(n * raw_ms, 2) for r, n in totals.items()},
              "ms_per_page_total": {r: round(n * scale[r], 2) for r, n in totals.items()},
              "main_threads": {t: round(n * scale.get("main", raw_ms), 2) for t, n in threads.most_common(8)}}
    for role in ("main", "worker"):
        result[f"{role}_own"] = [(f, round(n * scale.get(role, raw_ms), 2)) for f, n in own[role].most_common(top)]
        result[f"{role}_inclusive"] = [(f, round(n * scale.get(role, raw_ms), 2)) for f, n in inclusive[role].most_common(top * 2)]
    return result


def cprofile_records(site: Path, sample: int, top: int) -> str:
    from bench.throughput.stages import sample_pages
    from pipelines.extraction.article import ExtractionError
    from pipelines.extraction.records import make_record

    pages = sample_pages(site, sample)
    for page_id, body, _ in pages[:5]:  # warm-up: one-time loads are not per-page costs
        make_record(body, f"http://127.0.0.1:8000/articles/{page_id}.html", "text/html", min_words=40)
    for page_id, body, entry in [p for p in pages if p[2]["kind"] == "foreign"][:2]:
        make_record(body, f"http://127.0.0.1:8000/articles/{page_id}.html", "text/html", min_words=40)
    profiler = cProfile.Profile()
    profiler.enable()
    for page_id, body, _ in pages:
        try:
            make_record(body, f"http://127.0.0.1:8000/articles/{page_id}.html", "text/html", source="bench",
                        fetched_at="2026-01-01T00:00:00+00:00", min_words=40)
        except ExtractionError:
            pass
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (calls, _, own, cumulative, _) in stats.stats.items():
        rows.append((cumulative, own, calls, f"{name} ({'/'.join(Path(path).parts[-2:])}:{line})"))
    lines = [f"cProfile of make_record on {len(pages)} pages: ms per page (cumulative, own), calls per page"]
    for cumulative, own, calls, where in sorted(rows, reverse=True)[:top]:
        lines.append(f"{cumulative * 1000 / len(pages):8.2f} {own * 1000 / len(pages):8.2f} {calls / len(pages):9.1f}  {where}")
    lines.append("by own time:")
    for cumulative, own, calls, where in sorted(rows, key=lambda r: r[1], reverse=True)[:top]:
        lines.append(f"{cumulative * 1000 / len(pages):8.2f} {own * 1000 / len(pages):8.2f} {calls / len(pages):9.1f}  {where}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sample", type=int, default=300, help="pages for the cProfile part")
    parser.add_argument("--no-pyspy", action="store_true")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--summarize", metavar="RUN_DIR", help="only summarize an earlier py-spy run (its folder)")
    args = parser.parse_args(argv)
    site, _ = ensure_site(args.pages)
    if not args.no_pyspy:
        if args.summarize:
            raw = Path(args.summarize) / "pyspy.folded"
            result = json.loads((raw.parent / "result.json").read_text(encoding="utf-8"))
        else:
            raw, result = record(site, args.pages, args.rate, args.set)
        pages = result["stats"]["downloader/response_count"]
        summary = summarize(raw, pages, args.rate, args.top, result.get("measured_cpu"))
        print(f"py-spy: {pages} pages in {result['seconds']:.1f} s; measured CPU s {result.get('measured_cpu')}; "
              f"sampled ms/page {summary['sampled_ms_per_page']}; CPU ms/page by process {summary['ms_per_page_total']}")
        print(f"main process by thread, ms/page: {summary['main_threads']}")
        for role in ("main", "worker"):
            print(f"\n{role}: own time, ms/page")
            for frame, value in summary[f"{role}_own"]:
                print(f"{value:8.2f}  {frame}")
            print(f"\n{role}: inclusive time, ms/page")
            for frame, value in summary[f"{role}_inclusive"]:
                print(f"{value:8.2f}  {frame}")
        (raw.parent / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        print(f"\nraw samples: {raw}")
    print()
    print(cprofile_records(site, args.sample, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
