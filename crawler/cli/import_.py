"""`arshif import`: web archives Arshif did not write (CC-NEWS, wget, Browsertrix, Heritrix) into the archive."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
import sys
import tempfile
import time
from pathlib import Path

_ISO_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}Z?)?)?)?)?)?$")  # compared with WARC-Date as text


def _is_date(text: str) -> bool:
    """YYYY, YYYY-MM, YYYY-MM-DD[THH[:MM[:SS]]] naming a real moment (not 2024-13-45, not '')."""
    if not _ISO_PREFIX.match(text):
        return False
    padded = text.rstrip("Z") + "-01-01"[len(text) - 4:] if len(text) < 10 else text.rstrip("Z")
    if len(padded) == 13:  # YYYY-MM-DDTHH
        padded += ":00"
    try:
        datetime.fromisoformat(padded)
    except ValueError:
        return False
    return True


def register(sub) -> None:
    parser = sub.add_parser(
        "import",
        help="import the Arabic articles of WARC/ARC files (CC-NEWS, wget, Browsertrix, Heritrix) through the crawl's pipelines",
        description="Example: arshif import CC-NEWS-20240101000000-00001.warc.gz --db data/archive.db --since 2024-01-01",
    )
    parser.add_argument("inputs", nargs="+", metavar="FILE_OR_URL", help="WARC/ARC files (.warc, .warc.gz, .arc.gz) or http(s) URLs")
    parser.add_argument("--db", default="data/archive.db")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--source-from-host", action="store_true",
                     help="(the default) a page's source is the seed covering its host, else the host itself")
    who.add_argument("--source", help="file every page under this source name")
    parser.add_argument("--since", help="only records whose WARC-Date is on or after this date (YYYY-MM-DD...)")
    parser.add_argument("--languages", default="ar", help="comma-separated languages to keep (default: ar)")
    parser.add_argument("--no-copy", action="store_true",
                        help="do not copy records into the archive's WARC folder; rows point at the original file and offset")
    parser.add_argument("--no-pre-check", action="store_true",
                        help="parse every HTML page, not only those with Arabic script (slower; to check the pre-check)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a Scrapy/Arshif setting (e.g. ARSHIF_IMPORT_UNIT_RECORDS=1000)")
    parser.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    from crawler.cli.common import crawl_settings, refuse_if_locked
    from pipelines.archive.checks import check_archive_path, write_problem
    from pipelines.archive.warc_import import file_digest, format_problem

    if args.since is not None and not _is_date(args.since):
        print(f"arshif import: --since {args.since!r} is not a date: give YYYY, YYYY-MM-DD or YYYY-MM-DDTHH:MM", file=sys.stderr)
        return 2
    db_path = Path(args.db)
    check_archive_path(db_path)  # ArchiveError: exit 4 before anything is written
    problem = write_problem(db_path)
    if problem:  # a read-only file system: say so, not a traceback from the lock file
        print(f"arshif: {problem}", file=sys.stderr)
        return 1
    refuse_if_locked(str(db_path))
    downloads: list[Path] = []
    try:
        files = []
        for given in args.inputs:
            entry = _local(given, db_path, downloads, args.no_copy)
            if isinstance(entry, str):
                print(f"arshif import: {entry}", file=sys.stderr)
                return 2
            problem = format_problem(entry["path"])
            if problem:  # the wrong file named: say so before anything is read or written
                print(f"arshif import: {given} {problem}", file=sys.stderr)
                return 2
            entry["sha256"] = file_digest(entry["path"])
            same = next((other for other in files if other["sha256"] == entry["sha256"]), None)
            if same is not None:  # read once: its records, and its counts, once
                print(f"arshif import: {given} is the same file as {same.get('origin') or same['path']}: read once",
                      file=sys.stderr)
                continue
            if any(other["name"] == entry["name"] for other in files):  # counts are kept by name
                entry["name"] = f"{entry['name']} ({len(files) + 1})"
            files.append(entry)
        return _run(args, db_path, files, crawl_settings)
    finally:
        for path in downloads:
            path.unlink(missing_ok=True)


def _local(given: str, db_path: Path, downloads: list[Path], no_copy: bool) -> dict | str:
    """The input as a local file entry, or why it cannot be read. A URL is streamed to a file beside the archive."""
    if given.startswith(("http://", "https://")):
        if no_copy:
            return f"--no-copy needs local files: {given} is downloaded to a temporary file, deleted after the import"
        from pipelines.archive.warc_import import download

        name = given.rstrip("/").rsplit("/", 1)[-1] or "download.warc.gz"
        handle, temporary = tempfile.mkstemp(prefix=".import-", suffix="-" + name, dir=db_path.resolve().parent)
        os.close(handle)
        downloads.append(Path(temporary))
        try:
            download(given, Path(temporary), progress=_download_progress(name) if sys.stderr.isatty() else None)
        except Exception as exc:  # noqa: BLE001  (URLError, HTTPError, timeouts: the operator's URL)
            return f"cannot download {given}: {exc}"
        return {"path": temporary, "name": name, "origin": given, "size": Path(temporary).stat().st_size}
    path = Path(given)
    if path.is_dir():
        return f"{given} is a directory: name the WARC/ARC files in it (e.g. {given.rstrip('/')}/*.warc.gz)"
    if not path.exists():
        return f"{given}: no such file"
    if not path.is_file():
        return f"{given}: not a regular file"
    if not os.access(path, os.R_OK):
        return f"{given}: cannot be read"
    return {"path": str(path.resolve()), "name": path.name, "size": path.stat().st_size}


def _download_progress(name: str):
    def show(written: int) -> None:
        sys.stderr.write(f"\rdownloading {name}: {written / 1e6:.0f} MB")
        sys.stderr.flush()
    return show


def _run(args, db_path: Path, files: list[dict], crawl_settings) -> int:
    from scrapy.crawler import CrawlerProcess

    from pipelines.archive.database import open_archive

    settings = crawl_settings(str(db_path), args.log_level, args.set)
    settings.set("DOWNLOADER_MIDDLEWARES", {}, priority="cmdline")  # nothing is downloaded
    settings.set("ARSHIF_KEEP_LANGUAGES", [x.strip() for x in args.languages.split(",") if x.strip()], priority="cmdline")
    started = time.monotonic()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("import")
    process.crawl(crawler, files=json.dumps(files), source=args.source, since=args.since, copy="0" if args.no_copy else "1",
                  pre_check="0" if args.no_pre_check else "1")
    process.start()
    seconds = time.monotonic() - started
    crawl_id = crawler.stats.get_value("arshif/crawl_id")
    if crawl_id is None:
        print("arshif import: the import did not start (see the log above)", file=sys.stderr)
        return 1
    db = open_archive(db_path)
    try:
        row = dict(db["crawls"].get(crawl_id))
    finally:
        db.close()
    for entry in json.loads(row["import_files"] or "[]"):
        counts = entry["counts"]
        skipped = {k: v for k, v in sorted(counts.items()) if k not in ("records", "pages", "kept") and not k.endswith("_records")}
        print(f"{entry['name']}: {counts.get('records', 0)} records, {counts.get('kept', 0)} HTML pages imported; skipped: "
              + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in skipped.items()) or "none"))
    print(f"import: {row['stored']} articles stored; dropped: {row['duplicate']} duplicate, {row['not_arabic']} not Arabic, "
          f"{row['not_article']} not an article, {row['extraction_failed']} extraction failed "
          f"(crawl {crawl_id}, {row['status']}, {seconds:.1f} s)")
    if row["status"] != "finished":
        print(f"arshif import: the import did not finish ({row['status']}{': ' + row['error'] if row.get('error') else ''}); "
              "run the same command again to go on where it stopped", file=sys.stderr)
        return 1
    return 0
