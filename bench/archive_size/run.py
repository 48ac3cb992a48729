"""Does an incremental crawl cost more on a bigger archive? The demo re-crawled against archives of 0, 1 M, ... articles.

    python -m bench.archive_size.build --articles 1000000     # once: cached in bench/archive_size/.data
    python -m bench.archive_size.run --sizes 0,1000000 --baseline /tmp/main

For each size: the cached synthetic archive (build.py) gets the demo crawled
into it once (so its pages have validators and its articles are archived), and
the time this checkout's migrations take to upgrade it is measured (`open_archive`
on the first run); then `arshif crawl demo --local` is run against it by the
baseline checkout (if given) and by this one, each in a child whose peak RSS
(VmHWM) and wall time are recorded (bench/archive_size/measure.py). The re-run
fetches 4 pages, all answered 304: what it costs beyond that is start-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.archive_size.build import archive_path
from bench.archive_size.measure import run
from crawler.demo.server import SiteServer

ROOT = Path(__file__).resolve().parents[2]


def prepare(size: int, origin: str) -> tuple[Path, dict]:
    """The archive for `size`, upgraded by this checkout (timed) and with the demo crawled into it once."""
    path = archive_path(size)
    if size == 0 and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise SystemExit(f"{path} missing: python -m bench.archive_size.build --articles {size}")
    started = time.monotonic()
    from pipelines.archive.database import open_archive

    open_archive(path).close()
    upgrade = round(time.monotonic() - started, 1)
    seeded = path.with_suffix(".demo")
    if not seeded.exists():
        first = run(["crawl", "demo", "--db", str(path), "--base-url", origin, "--local"], cwd=ROOT)
        seeded.write_text(json.dumps(first))
    return path, {"upgrade_s": upgrade}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000000")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (e.g. main)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    trees = ([("baseline", args.baseline)] if args.baseline else []) + [("this", ROOT)]
    results = []
    with SiteServer() as site:
        for size in (int(s) for s in args.sizes.split(",")):
            path, info = prepare(size, site.origin)
            print(json.dumps({"size": size, **info, "archive_gb": round(path.stat().st_size / 1e9, 2)}), flush=True)
            for _ in range(args.repeat):
                for label, tree in trees:
                    result = run(["crawl", "demo", "--db", str(path), "--base-url", site.origin, "--local"], cwd=tree)
                    result.update(size=size, code=label)
                    results.append(result)
                    print(json.dumps(result, ensure_ascii=False), flush=True)
    print("\n| archived articles | code | peak RSS (MB) | wall (s) | summary |\n|---:|---|---:|---:|---|")
    for r in results:
        print(f"| {r['size']:,} | {r['code']} | {r['peak_rss_mb']} | {r['wall_s']} | {(r['tail'] or [''])[-1][:120]} |")


if __name__ == "__main__":
    main()
