"""The `arshif` command's entry point: build the parser from one module per subcommand and dispatch.

Each subcommand is a thin adapter: crawling is Scrapy's (`scrapy crawl news`),
extraction is `pipelines.extraction.records.make_record`, publishing is datasette.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# One module per subcommand (`import_` for `arshif import`: `import` is a keyword), each with `register(subparsers)`, in the order `arshif --help` lists them.
COMMAND_MODULES = tuple(f"crawler.cli.{name}" for name in ("demo", "crawl", "extract", "serve", "reextract", "export", "merge",
                                                                 "import_", "status"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arshif", description="Archive Arabic news sites into SQLite.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:
        from crawler.sources import SourceError
        from pipelines.archive.checks import ArchiveError

        if isinstance(exc, SourceError):
            print(f"arshif: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, ArchiveError):  # refused before anything was written
            print(f"arshif: {exc}", file=sys.stderr)
            return 4
        if _disk_full(exc):  # a write no command caught (the lock file's, a migration's): the cause, not a traceback
            from pipelines.outcomes.write_failure import describe

            print(f"arshif {args.command}: cannot write: {describe(exc)}; free some space and run it again", file=sys.stderr)
            return 1
        raise


def _disk_full(exc: BaseException) -> bool:
    import errno
    import sqlite3

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and "database or disk is full" in str(exc)


if __name__ == "__main__":
    sys.exit(main())
