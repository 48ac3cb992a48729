"""`arshif serve DB...`: publish archives with datasette and Arshif's metadata, plugins and templates."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.cli.common import DATASETTE_DIR, DEFAULT_DB

PUBLIC_ENV = "ARSHIF_PUBLIC"  # the variable datasette/plugins/arshif_public.py reads


# Suggested facets probe ~40 columns on every table page (seconds at a million articles);
# max_csv_mb 0: a streamed CSV (`_stream=1`) carries every row instead of stopping at 100 MB with HTTP 200.
SETTINGS = {"suggest_facets": "off", "max_csv_mb": "0"}


def register(sub) -> None:
    serve = sub.add_parser("serve", help="publish the archive with datasette on 127.0.0.1",
                           description="Example: arshif serve data/archive.db --port 8001\n"
                                       "A cluster's shards side by side: arshif serve data/shard-1.db data/shard-2.db",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("db", nargs="*", metavar="DB",
                       help=f"archives to publish (default {DEFAULT_DB}); several are joinable in SQL (--crossdb)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument("--immutable", action="store_true",
                       help="serve a finished archive as an immutable snapshot (checkpoints the WAL first; "
                            "refused while a crawl holds the archive)")
    serve.add_argument("--upgrade", action="store_true",
                       help="first bring an archive written by an older Arshif to this version's schema (one "
                            "transaction; the search index rebuild takes minutes per 100,000 articles)")
    serve.add_argument("--public", action="store_true",
                       help="for publishing on the internet: no arbitrary SQL (?sql= refused); the canned "
                            "queries, search, tables and reading view stay (SECURITY.md)")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    databases = [Path(db) for db in args.db or [DEFAULT_DB]]
    for db in databases:
        if not db.is_file():
            print(f"arshif serve: no archive at {db}; run `arshif demo` or `arshif crawl SOURCE` first", file=sys.stderr)
            return 2
    for db in databases:
        pending = pending_migrations(db)
        if pending and not args.upgrade:
            print(f"arshif serve: {db} was written by an older Arshif (pending: {', '.join(pending)}); its pages "
                  f"would fail. Upgrade it once: arshif serve --upgrade {db}", file=sys.stderr)
            return 2
        if pending:
            from crawler.cli.common import refuse_if_locked
            from pipelines.archive.database import open_archive

            refuse_if_locked(str(db))
            print(f"arshif serve: upgrading {db} ({', '.join(pending)}) ...", file=sys.stderr, flush=True)
            open_archive(db).close()
    if args.immutable:
        import sqlite3

        from pipelines.archive.lock import ArchiveLock, ArchiveLocked

        for db in databases:
            try:
                # held until datasette exits (the descriptor survives exec): a crawl writing under a reader
                # that takes the file as immutable makes it see "database disk image is malformed"
                lock = ArchiveLock(db).acquire()
            except ArchiveLocked as exc:
                print(f"arshif serve: {exc}", file=sys.stderr)
                return 3
            os.set_inheritable(lock.fileno(), True)
            with sqlite3.connect(db) as connection:  # immutable mode does not read the -wal file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    command = datasette_command([str(db) for db in databases], args.host, args.port, immutable=args.immutable)
    if getattr(args, "public", False):
        os.environ[PUBLIC_ENV] = "1"  # read by datasette/plugins/arshif_public.py
    print(("$ ARSHIF_PUBLIC=1 " if os.environ.get(PUBLIC_ENV) == "1" else "$ ") + " ".join(command), flush=True)
    os.execvp(command[0], command)
    return 0


def pending_migrations(db: Path) -> list[str]:
    """The migrations this version would apply to `db` (read only: nothing is written)."""
    import sqlite3

    from sqlite_utils import Database

    from pipelines.archive.database import migrations

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return [migration.name for migration in migrations.pending(Database(connection))]


def datasette_command(db: str | list[str], host: str = "127.0.0.1", port: int = 8001, immutable: bool = False) -> list[str]:
    """`datasette serve` for one archive, or for several (a cluster's shards, joinable with --crossdb)."""
    databases = [db] if isinstance(db, str) else list(db)
    files = [part for path in databases for part in (["-i", path] if immutable else [path])]
    return [
        sys.executable, "-m", "datasette", "serve", *files, *(["--crossdb"] if len(databases) > 1 else []),
        "--metadata", str(DATASETTE_DIR / "metadata.yaml"),
        "--plugins-dir", str(DATASETTE_DIR / "plugins"),
        "--template-dir", str(DATASETTE_DIR / "templates"),
        "--static", f"arshif-static:{DATASETTE_DIR / 'static'}",
        "--setting", "sql_time_limit_ms", "3000",
        *(part for name, value in SETTINGS.items() for part in ("--setting", name, value)),
        "--host", host, "--port", str(port),
    ]
