"""Bench `arshif import` on a generated CC-NEWS-shaped WARC: records/s and Arabic articles/s, with and without
the script pre-check, and the check that the pre-check drops no page the full path keeps as Arabic (must be 0).

    python -m bench.import.run --arabic 1500 --other 28500

Both imports run as `arshif import` in a child process each, into fresh archives under
/tmp/arshif-bench/import-N/ (nothing is written in the repository); peak RSS is the child's VmHWM.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

cc_news = importlib.import_module("bench.import.cc_news")


def wait_with_peak_rss(process: subprocess.Popen) -> int:
    """Wait for the child; return its peak RSS in MB (VmHWM, read from /proc until it exits)."""
    peak = 0
    while process.poll() is None:
        try:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) // 1024)
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    return peak


def run_import(warc: Path, db: Path, *extra: str) -> dict:
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "crawler.cli.main", "import", str(warc), "--db", str(db), *extra],
                               cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = wait_with_peak_rss(process)
    stdout, stderr = process.communicate()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}): {stderr[-3000:]}")
    with sqlite3.connect(db) as connection:
        counts = json.loads(connection.execute("SELECT import_files FROM crawls ORDER BY id DESC").fetchone()[0])[0]["counts"]
        kept = {row[0] for row in connection.execute("SELECT url FROM articles UNION SELECT url FROM duplicates")}
        stored = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    return {"seconds": round(seconds, 1), "records": counts["records"], "records_per_s": round(counts["records"] / seconds, 1),
            "arabic_articles": stored, "arabic_articles_per_s": round(stored / seconds, 2), "peak_rss_mb": peak,
            "counts": counts, "kept_urls": kept, "stdout": stdout.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arabic", type=int, default=1500, help="Arabic-site pages (default 1,500)")
    parser.add_argument("--other", type=int, default=28500, help="non-Arabic pages (default 28,500)")
    parser.add_argument("--filler-kb", type=int, default=0,
                        help="KB of incompressible inline image data per non-Arabic page (80: ~1 GB for 36,001 records)")
    parser.add_argument("--out", default="/tmp/arshif-bench/import-{pages}")
    parser.add_argument("--delete-warc", action="store_true", help="delete the generated WARC at the end (it is big)")
    args = parser.parse_args(argv)
    out = Path(args.out.format(pages=args.arabic + args.other))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    warc = out / "CC-NEWS-generated.warc.gz"
    started = time.monotonic()
    made = cc_news.write_cc_news(warc, args.arabic, args.other, filler_kb=args.filler_kb)
    print(f"generated {warc}: {made['records']} records ({made['pages']} pages, {args.arabic} on the Arabic site), "
          f"{made['bytes'] / 1e6:.0f} MB in {time.monotonic() - started:.0f} s", flush=True)
    baseline = run_import(warc, out / "full" / "archive.db", "--no-pre-check")
    print("without the pre-check (baseline):", baseline["stdout"], flush=True)
    checked = run_import(warc, out / "checked" / "archive.db")
    print("with the pre-check:", checked["stdout"], flush=True)
    again = run_import(warc, out / "checked" / "archive.db")  # the same command again: reads it all, adds nothing
    print("the same command again:", again["stdout"], flush=True)
    if args.delete_warc:
        warc.unlink()
    lost = sorted(baseline["kept_urls"] - checked["kept_urls"])
    result = {
        "records": made["records"], "file_mb": round(made["bytes"] / 1e6), "pages": made["pages"], "arabic_pages": args.arabic,
        **{f"{name}_{key}": run[key] for name, run in (("baseline", baseline), ("checked", checked))
           for key in ("seconds", "records_per_s", "arabic_articles", "arabic_articles_per_s", "peak_rss_mb")},
        "file_mb_per_s_checked": round(made["bytes"] / 1e6 / checked["seconds"], 1),
        "rerun_seconds": again["seconds"], "rerun_peak_rss_mb": again["peak_rss_mb"],
        "rerun_added_articles": again["arabic_articles"] - checked["arabic_articles"],
        "pre_check_rejected": checked["counts"].get("pre_check_rejected", 0),
        "speedup": round(baseline["seconds"] / checked["seconds"], 2),
        "arabic_pages_the_pre_check_lost": len(lost),
        "load_average_1min_at_end": round(__import__("os").getloadavg()[0], 1),  # the machine is shared: say how busy it was
    }
    print(json.dumps(result, indent=2))
    (out / "result.json").write_text(json.dumps(result, indent=2))
    if lost:
        print("LOST by the pre-check:", *lost[:20], sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
