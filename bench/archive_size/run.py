"""Does an incremental crawl cost more on a bigger archive? The demo re-crawled against archives of 0, 1 M, ... articles.

    python -m bench.archive_size.build --articles 1000000     # once: cached in bench/archive_size/.data
    python -m bench.archive_size.run --sizes 0,1000000 --baseline /tmp/main
    python -m bench.archive_size.run --sizes 0,1000000 --baseline /tmp/main --url-fold www,mobile,amp

For each size: the cached synthetic archive (build.py) gets the demo crawled
into it once (so its pages have validators and its articles are archived), and
the time this checkout's migrations take to upgrade it is measured (`open_archive`
on the first run); then `arshif crawl demo --local` is run against it by the
baseline checkout (if given) and by this one, each in a child whose peak RSS
(VmHWM) and wall time are recorded (bench/archive_size/measure.py). The re-run
fetches 4 pages, all answered 304: what it costs beyond that is start-up.
With --url-fold, the re-runs crawl the demo as a source with that `url_fold`
(seeds/demo.toml plus the line, in a temporary file): its URL keys are folded.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

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


def seeded_port(path: Path) -> int:
    """The port of the demo URLs already in the archive (0: none yet, any free port)."""
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT url FROM pages WHERE url >= 'http://127.0.0.1:' AND url < 'http://127.0.0.1;'"
                                 " LIMIT 1").fetchone()
    finally:
        connection.close()
    return urlsplit(row[0]).port if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000000")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (e.g. main)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--url-fold", help="re-run the demo as a source with this url_fold (comma-separated: www,mobile,amp)")
    args = parser.parse_args()
    source = "demo"
    if args.url_fold:
        folds = ", ".join(f'"{name}"' for name in args.url_fold.split(","))
        text = (ROOT / "seeds" / "demo.toml").read_text(encoding="utf-8").replace("\n[limits]", f"\nurl_fold = [{folds}]\n\n[limits]")
        source = str(Path(tempfile.mkdtemp()) / "demo.toml")
        Path(source).write_text(text, encoding="utf-8")
    trees = ([("baseline", args.baseline)] if args.baseline else []) + [("this", ROOT)]
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        # the demo on the port it was first crawled from, so a re-run meets the same URLs (all 304)
        with SiteServer(port=seeded_port(archive_path(size))) as site:
            path, info = prepare(size, site.origin)
            print(json.dumps({"size": size, **info, "archive_gb": round(path.stat().st_size / 1e9, 2)}), flush=True)
            for _ in range(args.repeat):
                for label, tree in trees:
                    result = run(["crawl", source, "--db", str(path), "--base-url", site.origin, "--local"], cwd=tree)
                    result.update(size=size, code=label)
                    results.append(result)
                    print(json.dumps(result, ensure_ascii=False), flush=True)
    print("\n| archived articles | code | peak RSS (MB) | wall (s) | summary |\n|---:|---|---:|---:|---|")
    for r in results:
        print(f"| {r['size']:,} | {r['code']} | {r['peak_rss_mb']} | {r['wall_s']} | {(r['tail'] or [''])[-1][:120]} |")


if __name__ == "__main__":
    main()
