"""`arshif export`: stream the articles table to CSV, JSON Lines or Parquet in constant memory.

The archive is opened read-only and read through one cursor, BATCH_ROWS rows
at a time; a file is written next to its destination and renamed into place
when complete, so an interrupted export never leaves a truncated file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

FORMATS = ("csv", "jsonl", "parquet")
BATCH_ROWS = 1000
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$")
EXAMPLE = "Example: arshif export --format csv --bom --source aljazeera --since 2025-01-01 --output aljazeera.csv"


class ExportError(Exception):
    """A problem the user can fix: a missing archive, a bad date, a missing package."""


def open_readonly(db: str | Path) -> sqlite3.Connection:
    path = Path(db)
    if not path.is_file():
        raise ExportError(f"no archive at {path}; run `arshif demo` or `arshif crawl SOURCE` first")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.execute("PRAGMA query_only = 1")
    return connection


def build_query(sources: list[str] | None = None, since: str | None = None, one_per_story: bool = False) -> tuple[str, list]:
    """The SELECT over articles for the filters given; publication date `since` is inclusive;
    `one_per_story`: only each story's original (the `stories` view: its earliest-published member)."""
    where, params = [], []
    if one_per_story:
        where.append("id in (select original_id from stories)")
    if sources:
        where.append(f"source in ({', '.join('?' for _ in sources)})")
        params.extend(sources)
    if since:
        if not DATE_RE.match(since):
            raise ExportError(f"--since {since!r} is not a date: use YYYY-MM-DD (e.g. 2025-01-31)")
        where.append("published >= ?")
        params.append(since)
    sql = "select * from articles"
    if where:
        sql += " where " + " and ".join(where)
    return sql + " order by id", params


def _batches(cursor: sqlite3.Cursor):
    while rows := cursor.fetchmany(BATCH_ROWS):
        yield rows


def write_csv(cursor, stream, columns, bom=False, raw=False) -> int:
    """Spreadsheet-safe unless `raw`: text cells starting with = + - @ tab CR get a leading ' (SECURITY.md)."""
    from pipelines.text.spreadsheet import neutralise_row

    text = io.TextIOWrapper(stream, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(columns)
    count = 0
    for rows in _batches(cursor):
        writer.writerows(rows if raw else map(neutralise_row, rows))
        count += len(rows)
    text.flush()
    text.detach()
    return count


def write_jsonl(cursor, stream, columns, bom=False) -> int:
    count = 0
    for rows in _batches(cursor):
        for row in rows:
            stream.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False).encode("utf-8") + b"\n")
        count += len(rows)
    return count


_ARROW_TYPES = {"INTEGER": "int64", "REAL": "float64", "FLOAT": "float64", "TEXT": "string", "BLOB": "binary"}


def write_parquet(cursor, stream, columns, bom=False, declared_types=None) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError("--format parquet needs pyarrow: pip install pyarrow") from None
    declared_types = declared_types or {}
    schema = pa.schema(
        [(name, getattr(pa, _ARROW_TYPES.get(declared_types.get(name, "").upper(), "string"))()) for name in columns]
    )
    count = 0
    with pq.ParquetWriter(stream, schema, compression="zstd") as writer:
        for rows in _batches(cursor):
            arrays = [pa.array([row[i] for row in rows], type=schema.field(i).type) for i in range(len(columns))]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            count += len(rows)
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "parquet": write_parquet}


@contextmanager
def _destination(output: str):
    """A binary stream for `output`: stdout for "-", else a .part file renamed on success."""
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        with open(partial, "wb") as stream:
            yield stream
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def export(db, fmt, output="-", sources=None, since=None, bom=False, raw=False, one_per_story=False) -> int:
    """Write the selected articles to `output` in `fmt`; return how many were written."""
    if fmt == "parquet":  # fail before any file is created
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExportError("--format parquet needs pyarrow: pip install pyarrow") from None
        if output == "-" and sys.stdout.isatty():
            raise ExportError("Parquet is binary: give --output FILE or redirect stdout")
    if output != "-":
        from pipelines.archive.checks import ArchiveError, refuse_output

        try:
            refuse_output(output, db)  # never the archive, its -wal/-shm, another database or a WARC file
        except ArchiveError as exc:
            raise ExportError(str(exc)) from None
    sql, params = build_query(sources, since, one_per_story)
    connection = open_readonly(db)
    try:
        cursor = connection.execute(sql, params)
        columns = [description[0] for description in cursor.description]
        with _destination(output) as stream:
            if fmt == "parquet":
                types = {row[1]: row[2] for row in connection.execute("PRAGMA table_info(articles)")}
                return write_parquet(cursor, stream, columns, declared_types=types)
            return WRITERS[fmt](cursor, stream, columns, bom=bom, **({"raw": True} if raw else {}))
    finally:
        connection.close()


def cmd_export(args) -> int:
    if args.bom and args.format != "csv":
        print("arshif export: --bom applies to --format csv only", file=sys.stderr)
        return 2
    if getattr(args, "raw", False) and args.format != "csv":
        print("arshif export: --raw applies to --format csv only", file=sys.stderr)
        return 2
    try:
        count = export(args.db, args.format, args.output, args.source, args.since, args.bom, getattr(args, "raw", False),
                       args.one_per_story)
    except ExportError as exc:
        print(f"arshif export: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `arshif export | head`
        sys.stderr.close()
        return 0
    target = "stdout" if args.output == "-" else args.output
    print(f"arshif export: {count} articles written to {target} ({args.format})", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    from crawler.cli.common import DEFAULT_DB

    parser = subparsers.add_parser(
        "export",
        help="write the archive's articles to CSV, JSON Lines or Parquet",
        description="Stream the articles table (all columns, in id order) to a file or stdout, "
        "in constant memory. " + EXAMPLE,
    )
    parser.add_argument("--format", choices=FORMATS, default="csv", help="output format (default: csv)")
    parser.add_argument("--source", action="append", metavar="S", help="only this source (repeatable)")
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the archive (default: {DEFAULT_DB})")
    parser.add_argument("--output", "-o", default="-", metavar="FILE", help="where to write; - for stdout (default)")
    parser.add_argument("--bom", action="store_true", help="start the CSV with a UTF-8 BOM so spreadsheets read Arabic")
    parser.add_argument("--raw", action="store_true",
                        help="CSV cells exactly as stored: no leading ' on text that starts with = + - @ tab or CR "
                             "(unsafe to open in a spreadsheet; see SECURITY.md)")
    parser.add_argument("--one-per-story", action="store_true",
                        help="only the original of each story (its earliest-published article), not its other versions")
    parser.set_defaults(func=cmd_export)
