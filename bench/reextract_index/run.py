"""What `index_tables.recount_guards` adds to the reextract swap, against the index copy the swap already made.

Builds a synthetic index (signatures with SHINGLES shingle hashes a text, a quarter of them
drawn from a pool of template hashes; 32 band rows an article, some keys shared by many)
through the project's migrations, then times, each in a child process and a transaction
rolled back: the baseline (the swap's copy of signatures and bands: delete, insert them
back) and the recount (counts from every signature, template marks, over-full buckets).
Peak RSS is the child's VmHWM.

    python -m bench.reextract_index.run --sizes 20000,100000,300000
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHINGLES = 400  # a 400-word article
TEMPLATE_POOL = 2000


def build(path: Path, articles: int) -> None:
    from pipelines.archive.database import open_archive
    from pipelines.similarity.near_duplicates import BANDS, NUM_PERM, open_index

    db = open_archive(path)
    open_index(db).close()
    rng = np.random.default_rng(7)
    template = rng.integers(0, 2**32, size=TEMPLATE_POOL, dtype=np.uint32)
    shared_keys = rng.integers(-(2**63), 2**63 - 1, size=200, dtype=np.int64)
    with db.conn:
        for start in range(1, articles + 1, 10_000):
            ids = range(start, min(start + 10_000, articles + 1))
            rows, bands = [], []
            for i in ids:
                own = rng.integers(0, 2**32, size=SHINGLES * 3 // 4, dtype=np.uint32)
                hashes = np.unique(np.concatenate([own, rng.choice(template, SHINGLES // 4, replace=False)]))
                rows.append((i, rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32).tobytes(), len(hashes), hashes.tobytes()))
                keys = rng.integers(-(2**63), 2**63 - 1, size=BANDS, dtype=np.int64)
                keys[:2] = rng.choice(shared_keys, 2, replace=False)  # template-heavy texts share a few buckets
                bands.extend((int(k), i) for k in keys)
            db.conn.executemany("INSERT INTO near_duplicate_signatures (article_id, signature, shingles, shingle_hashes)"
                                " VALUES (?, ?, ?, ?)", rows)
            db.conn.executemany("INSERT OR IGNORE INTO near_duplicate_bands (band_key, article_id) VALUES (?, ?)",
                                sorted(bands))
    db.close()


def child(step: str, path: str) -> None:
    from pipelines.similarity.index_tables import recount_guards

    c = sqlite3.connect(path, isolation_level=None)
    c.execute("BEGIN IMMEDIATE")
    started = time.perf_counter()
    if step == "baseline":
        c.execute("CREATE TEMP TABLE s AS SELECT * FROM near_duplicate_signatures")
        c.execute("CREATE TEMP TABLE b AS SELECT * FROM near_duplicate_bands")
        c.execute("DELETE FROM near_duplicate_bands")
        c.execute("DELETE FROM near_duplicate_signatures")
        c.execute("INSERT INTO near_duplicate_signatures SELECT * FROM temp.s")
        c.execute("INSERT INTO near_duplicate_bands SELECT * FROM temp.b")
    else:
        recount_guards(c, 1)
    seconds = time.perf_counter() - started
    marks = c.execute("SELECT (SELECT COUNT(*) FROM near_duplicate_common), (SELECT COUNT(*) FROM near_duplicate_full_bands)"
                      ).fetchone()
    c.execute("ROLLBACK")
    status = Path("/proc/self/status").read_text()
    hwm = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    print(json.dumps({"seconds": seconds, "vmhwm_mb": hwm / 1024, "common": marks[0], "full": marks[1]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--child", nargs=2, metavar=("STEP", "DB"))
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(dir="/tmp") as folder:
            path = Path(folder) / "index.db"
            build(path, size)
            result = {}
            for step in ("baseline", "recount"):
                out = subprocess.run([sys.executable, "-m", "bench.reextract_index.run", "--child", step, str(path)],
                                     capture_output=True, text=True, check=True).stdout
                result[step] = json.loads(out)
            b, r = result["baseline"], result["recount"]
            print(f"{size:>9,} articles: index copy {b['seconds']:.2f} s ({b['vmhwm_mb']:.0f} MB), recount "
                  f"{r['seconds']:.2f} s ({r['vmhwm_mb']:.0f} MB) = {r['seconds'] / b['seconds']:.2f}x the copy; "
                  f"{r['common']:,} template shingles, {r['full']:,} full buckets", flush=True)


if __name__ == "__main__":
    main()
