"""Time the upgrade of a built bench archive to this tree's schema, migration by migration.

    python -m bench.datasette.upgrade --articles 1000000 --label after

What an operator's existing archive goes through on the first `open_archive`
after an update (m031 rebuilds the search index: the long one). Works on a copy
(`.data/<label>-N/archive.db`; the built archive is never written), applies the
pending migrations in one transaction as `open_archive` does, and prints the
seconds each took and the file sizes. The copy is then the "after" archive
that `run.py --label LABEL --migrate none` serves.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.datasette.build import DATA, archive_path  # noqa: E402


def upgraded_copy(articles: int, label: str) -> Path:
    source = archive_path(articles)
    target = DATA / f"{label}-{articles}" / "archive.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():  # an earlier run served the built archive itself: never migrate that
        target.unlink()
    if not target.is_file():
        started = time.monotonic()
        shutil.copyfile(source, target.with_suffix(".part"))
        target.with_suffix(".part").rename(target)
        print(f"copied {source.stat().st_size / 1e9:.1f} GB in {time.monotonic() - started:.0f} s", flush=True)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--label", default="after")
    args = parser.parse_args(argv)
    from sqlite_utils import Database

    from pipelines.archive.database import migrations
    from pipelines.text.search_text import register_functions

    target = upgraded_copy(args.articles, args.label)
    db = Database(target)
    db.search_forms = {}
    register_functions(db.conn, db.search_forms)
    db.enable_wal()
    pending = [migration.name for migration in migrations.pending(db)]
    print(f"pending: {', '.join(pending) or 'none'}; load {os.getloadavg()[0]:.1f}", flush=True)
    total = time.monotonic()
    with db.atomic():  # as open_archive: all or nothing
        for index, name in enumerate(pending):
            started, cpu = time.monotonic(), time.process_time()
            migrations.apply(db, stop_before=pending[index + 1] if index + 1 < len(pending) else None)
            print(f"{name}: {time.monotonic() - started:.1f} s (CPU {time.process_time() - cpu:.1f} s), "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    committed = time.monotonic()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"all: {committed - total:.1f} s in the transaction, checkpoint {time.monotonic() - committed:.1f} s; "
          f"file {target.stat().st_size / 1e9:.2f} GB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
