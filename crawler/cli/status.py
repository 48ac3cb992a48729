"""`arshif status`: the health of every source in the terminal, as JSON, or as an exit code for cron.

Reads the archive only (pipelines/archive/health.py opens it read-only, with no
migration and no lock), so it works beside a running crawl and never changes the file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import sys
from datetime import datetime, timezone

from crawler.cli.common import DEFAULT_DB

EXIT_OK = 0
EXIT_STALE = 1  # --fail-if-stale: a tracked source stored nothing, or had no finished run, for HOURS
EXIT_USAGE = 2  # no archive at --db, or a bad argument (--fail-if-stale naming a source known only from imports)
EXIT_NOT_ARCHIVE = 4  # --db is not an Arshif archive (as every command)
EXIT_UNREADABLE = 5  # the archive could not be read to the end (a damaged file)
SPARKS = " ▁▂▃▄▅▆▇█"
SPARK_DAYS = 14

EXAMPLE = """Example: arshif status --db data/archive.db
cron: arshif status --fail-if-stale 6 || echo "a source went quiet"
exit codes: 0 fine; 1 a tracked source is stale (--fail-if-stale); 2 no archive at --db, or --fail-if-stale naming
a source known only from WARC imports; 4 not an Arshif archive;
5 the archive could not be read (damaged)"""


def register(sub) -> None:
    status = sub.add_parser("status", help="health of every source: last run, recent articles, failures, warnings",
                            description=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    status.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="only these sources (each is then expected to stay fresh, even if never crawled)")
    status.add_argument("--db", default=DEFAULT_DB)
    status.add_argument("--json", action="store_true", help="print the rows as JSON")
    status.add_argument("--fail-if-stale", type=float, metavar="HOURS",
                        help="exit 1 when a tracked source (seeded and crawled here, or named) has stored no article "
                             "or had no finished run for HOURS; sources only imported from WARC files are not tracked (named with "
                             "this option, they are refused: exit 2)")
    status.set_defaults(func=cmd_status)


def seeded_source_names() -> list[str]:
    """The sources seeds/ defines, by their `name` key (the file's stem when it has none or does not parse).

    Read, not validated: validation compiles every pattern and times it on hostile URLs
    (0.8 s for the shipped seeds), which `arshif crawl` does before it starts.
    """
    from crawler.sources import SEEDS_DIR, tomllib

    names = []
    for path in sorted(SEEDS_DIR.glob("*.toml")):
        try:
            with open(path, "rb") as handle:
                name = tomllib.load(handle).get("name")
        except (OSError, ValueError):  # not TOML, or not UTF-8
            name = None
        names.append(name if isinstance(name, str) and name else path.stem)
    return names


def spark(daily: list, days: int = SPARK_DAYS) -> str:
    counts = [count for _, count in daily[-days:]]
    peak = max(counts, default=0)
    if not peak:
        return "·" * len(counts)
    return "".join(SPARKS[0] if not c else SPARKS[max(1, round(c / peak * (len(SPARKS) - 1)))] for c in counts)


def _ago(text: str | None, now: datetime) -> str:
    from pipelines.archive.health import _age_hours

    hours = _age_hours(text, now)
    if hours is None:
        return "never"
    if hours < 1:
        return f"{max(0, round(hours * 60))} min ago"
    if hours < 48:
        return f"{hours:.0f} h ago"
    return f"{hours / 24:.0f} d ago"


def _warning_text(row) -> str:
    parts = []
    if row.last_faults:
        parts.append(", ".join(f"{name} ×{count}" for name, count in list(row.last_faults.items())[:3]))
    if row.last_warning:
        parts.append(f"{row.last_warning['kind']} (crawl {row.last_warning['crawl_id']}): {row.last_warning['text']}")
    text = "; ".join(parts)
    return text if len(text) <= 90 else text[:89] + "…"


def table(rows, now: datetime) -> str:
    header = ("source", "state", "last run", "status", "24h", "7d", "usual/day", "failed", "empty", f"last {SPARK_DAYS} days",
              "faults / last warning")
    lines = [header]
    for row in rows:
        run = row.last_run or {}
        status = run.get("status") or "-"
        if run.get("limit_reached"):
            status += " (limit)"
        if run.get("kind") == "import":  # a source known only from WARC imports: its last import
            status += " (import)"
        usual = "-" if row.usual_per_day is None else f"{row.usual_per_day:g}"
        plus = "+" if row.runs_capped else ""
        lines.append((row.source, row.state, _ago(run.get("started_at"), now) if run else "never", status,
                      str(row.stored_24h), str(row.stored_7d), usual, f"{row.failed_runs}{plus}", f"{row.empty_runs}{plus}",
                      spark(row.daily), _warning_text(row)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1]).rstrip()
                     for line in lines)


def cmd_status(args) -> int:
    from pipelines.archive.health import (
        DEFAULT_STALE_HOURS,
        ArchiveMissing,
        HealthError,
        collect,
        open_readonly,
    )

    if args.fail_if_stale is not None and not 0 < args.fail_if_stale < math.inf:  # nan and inf could never fire
        print("arshif status: --fail-if-stale takes a number of hours above 0", file=sys.stderr)
        return EXIT_USAGE
    try:
        connection = open_readonly(args.db)
    except HealthError as exc:
        print(f"arshif status: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ArchiveMissing) else EXIT_NOT_ARCHIVE
    now = datetime.now(timezone.utc)
    hours = args.fail_if_stale or DEFAULT_STALE_HOURS
    try:
        rows = collect(connection, seeded_source_names(), now, hours, only=args.sources or None)
    except sqlite3.DatabaseError as exc:  # a damaged file: say so, change nothing
        print(f"arshif status: {args.db} could not be read: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    finally:
        connection.close()
    imported_only = [row.source for row in rows if not row.seeded and (row.last_run or {}).get("kind") == "import"]
    if args.fail_if_stale is not None and args.sources and imported_only:
        # freshness counts crawl runs: such a source would be stale whatever its imports brought, every time
        print(f"arshif status: --fail-if-stale cannot watch {', '.join(imported_only)}: known only from WARC imports "
              "(arshif import), which are not crawl runs, so nothing keeps it fresh; name crawled sources, or run "
              "without --fail-if-stale to see its row", file=sys.stderr)
        return EXIT_USAGE
    stale = [row.source for row in rows if row.stale]
    if args.json:
        text = json.dumps({"archive": str(args.db), "generated_at": now.isoformat(timespec="seconds"), "stale_hours": hours,
                           "stale": stale, "sources": [row.as_dict() for row in rows]}, ensure_ascii=False, indent=2)
    else:
        text = table(rows, now)
        if stale:
            text += f"\n\nstale (no article or no finished run for {hours:g} h): {', '.join(stale)}"
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `arshif status | head`: the exit code still says what was found
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if args.fail_if_stale is not None and stale:
        print(f"arshif status: stale for {hours:g} h: {', '.join(stale)}", file=sys.stderr)
        return EXIT_STALE
    return EXIT_OK
