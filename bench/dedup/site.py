"""Crawl the generated story site three times into fresh archives and compare: what is kept, and is it the same?

    python bench/dedup/site.py --stories 2000

Builds tests/story_site.py's site (templated reports sharing 43-60% of their
paragraphs, near and exact copies, AMP and tracking aliases) in a temporary
folder, serves it on 127.0.0.1 and runs `arshif crawl` on it with the code of the
current directory: once in the spider's order, then with two shuffled download
orders (tests/shuffled_order.py). Prints, per crawl, the articles kept against the
site's distinct texts, the duplicates rows that name an article of another text (by
the site's ground truth), and whether the three archives hold the same articles,
duplicates, stories and originals (tests.conftest.archive_snapshot, URLs without
the server's port).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR))

SHUFFLED = ["-s", "SPIDER_MIDDLEWARES=" + json.dumps({"tests.shuffled_order.ShuffledOrder": 950})]
_ORIGIN_RE = re.compile(r"http://127\.0\.0\.1:\d+")


def _portless(value):
    if isinstance(value, (set, frozenset)):
        return frozenset(_portless(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_portless(v) for v in value)
    return _ORIGIN_RE.sub("", value) if isinstance(value, str) else value


def main(argv: list[str] | None = None) -> int:
    from sqlite_utils import Database

    from crawler.demo.server import SiteServer
    from tests.conftest import archive_snapshot
    from tests.story_site import build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        plan = build(root, args.stories)
        texts = len({page.text for page in plan.pages})
        snapshots = []
        with SiteServer(root) as server:
            for name, extra in (("spider's order", []), ("shuffled 1", [*SHUFFLED, "-s", "ARSHIF_TEST_SHUFFLE_SEED=1"]),
                                ("shuffled 2", [*SHUFFLED, "-s", "ARSHIF_TEST_SHUFFLE_SEED=2"])):
                db_path = Path(tmp) / f"archive-{len(snapshots)}.db"
                started = time.monotonic()
                run = subprocess.run([sys.executable, "-m", "crawler.cli.main", "crawl", str(root / "source.toml"),
                                      "--db", str(db_path), "--base-url", server.origin, "--local", "--log-level", "WARNING",
                                      *extra], cwd=PROJECT_DIR, capture_output=True, text=True)
                db = Database(db_path)
                kinds = dict(db.execute("SELECT kind, COUNT(*) FROM duplicates GROUP BY kind").fetchall())
                articles = db["articles"].count
                text_of = {page.path: page.text for page in plan.pages}
                wrong = sum(text_of.get(_portless(url).split("?")[0]) != text_of.get(_portless(of))
                            for url, of in db.execute("SELECT d.url, a.url FROM duplicates d JOIN articles a ON a.id = d.duplicate_of"))
                print(f"{name}: exit {run.returncode}, {time.monotonic() - started:.0f} s; {articles} articles of {texts} "
                      f"distinct texts ({texts - articles} lost); duplicates {kinds}, {wrong} naming an article of another text")
                snapshot = archive_snapshot(db) if "story_id" in db["articles"].columns_dict else {
                    "articles": set(db.execute("SELECT url, title, text, published FROM articles").fetchall())}
                snapshots.append({key: _portless(value) for key, value in snapshot.items()})
    same = {key: all(s.get(key) == snapshots[0].get(key) for s in snapshots) for key in snapshots[0]}
    print(f"the three archives hold the same: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
