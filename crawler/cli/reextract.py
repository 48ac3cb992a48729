"""`arshif reextract`: rebuild articles and duplicates from the WARC files, offline."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser(
        "reextract",
        help="rebuild articles and duplicates from the archived WARC files (no network)",
        description="Example: arshif reextract --db data/archive.db",
    )
    parser.add_argument("--db", default="data/archive.db", help="the archive whose WARC files to replay")
    parser.add_argument("--warc", help="WARC folder (default: warc/ beside the archive)")
    parser.add_argument("--into", help="write a new archive here (a copy of --db with the rebuilt rows swapped in) "
                        "instead of replacing the tables in --db")
    parser.add_argument("--skip-unreadable", action="store_true",
                        help="rebuild from the WARC files that read to their end; the archived rows of the others stay")
    parser.add_argument("--log-level", default="WARNING")
    parser.set_defaults(func=cmd_reextract)


def cmd_reextract(args) -> int:
    from crawler.cli.common import crawl_settings as _settings
    from crawler.cli.common import refuse_if_locked
    from pipelines.archive.database import open_archive
    from pipelines.archive.lock import ArchiveLock, ArchiveLocked
    from pipelines.archive.rebuild import RebuildRefused, replace_tables
    from pipelines.outcomes.write_failure import WRITE_ERROR, describe

    db_path = Path(args.db)
    warc_dir = Path(args.warc) if args.warc else db_path.resolve().parent / "warc"
    from pipelines.archive.warc_import import uncopied_pages

    if not any(warc_dir.glob("*.warc.gz")) and not uncopied_pages(db_path):  # `arshif import --no-copy` pages too
        print(f"arshif reextract: no WARC files in {warc_dir}", file=sys.stderr)
        return 2
    target = _target(db_path, args.into)  # ArchiveError (exit 4) before anything is deleted
    into = Path(args.into) if args.into else None
    refuse_if_locked(str(target))  # another reextract builds it now
    if into is not None:
        refuse_if_locked(str(into))
    else:
        refuse_if_locked(str(db_path))  # the archive to replace is being written: say so now, not after the work
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm"), *_partial_files(into)):
        stale.unlink(missing_ok=True)

    from scrapy.crawler import CrawlerProcess

    settings = _settings(str(target), args.log_level)
    settings.set("ARSHIF_WARC_DIR", "", priority="cmdline")  # replaying, not archiving
    settings.set("DOWNLOADER_MIDDLEWARES", {}, priority="cmdline")
    started = time.monotonic()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("reextract")
    process.crawl(crawler, warc_dir=str(warc_dir), imported_from=str(db_path), archive=str(db_path))
    process.start()
    seconds = time.monotonic() - started
    replayed = crawler.stats.get_value("arshif/warc_responses_replayed", 0)
    stored = crawler.stats.get_value("arshif/stored", 0)
    print(f"reextract: {replayed} archived article pages, {stored} articles, "
          f"{crawler.stats.get_value('arshif/duplicate', 0)} duplicates, "
          f"{crawler.stats.get_value('arshif/replay_too_large', 0)} refused as larger than DOWNLOAD_MAXSIZE in {seconds:.1f} s "
          f"({replayed / seconds if seconds else 0:.0f} docs/s)")
    foreign = crawler.stats.get_value("arshif/warc_files_foreign") or []
    if foreign:
        print(f"arshif reextract: {len(foreign)} WARC file(s) in {warc_dir} that no row of {db_path} names were not "
              f"replayed (another archive's in the same folder, or a run killed before it archived anything): "
              f"{', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}", file=sys.stderr)
    if crawler.stats.get_value("arshif/warc_references_missing"):
        print(f"arshif reextract: warning: {db_path} names no WARC record (an archive older than WARC references), "
              f"so every record in {warc_dir} was replayed; if another archive shares that folder, its pages are "
              "in the result too", file=sys.stderr)
    unreadable = crawler.stats.get_value("arshif/warc_unreadable") or {}
    finish = crawler.stats.get_value("finish_reason")

    made_here = [target]  # the files this run made, removed if it fails (never an --into it did not write)

    def discard(message: str, code: int) -> int:
        print(f"arshif reextract: {message}", file=sys.stderr)
        for made in made_here:
            for leftover in (made, Path(f"{made}-wal"), Path(f"{made}-shm"), Path(f"{made}.lock")):
                leftover.unlink(missing_ok=True)
        print(f"Nothing changed in {db_path}" if not args.into else f"No archive written at {into}", file=sys.stderr)
        return code

    if finish != "finished":
        cause = crawler.stats.get_value(WRITE_ERROR)  # the disk is full, the folder read-only: say which file
        return discard(f"the replay did not finish ({finish}" + (f": cannot write {target}: {cause}" if cause else "") + ")", 1)
    for name, reason in sorted(unreadable.items()):
        print(f"arshif reextract: unreadable WARC file {warc_dir / name}: {reason}", file=sys.stderr)
    if unreadable and not args.skip_unreadable:
        return discard(f"{len(unreadable)} WARC file(s) could not be read to their end; rerun with --skip-unreadable to "
                       "rebuild from the others and keep the archived rows of what they hold", 5)
    if into is not None:  # a copy of the archive (ids, versions, pages, crawls), then the same swap as in place
        if into.exists() or into.is_symlink():
            return discard(f"--into {into} appeared during the replay; it was left alone", 4)
        made_here.append(partial := into.with_name(into.name + ".partial"))
        try:
            _copy(db_path, partial)
        except (sqlite3.Error, OSError) as exc:
            return discard(f"could not copy {db_path} to {partial}: {describe(exc)}", 1)
    swapped = partial if into is not None else db_path
    try:
        with ArchiveLock(swapped):
            db = open_archive(swapped)
            try:
                report = replace_tables(db.conn, target)
                db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                db.close()
    except ArchiveLocked as exc:
        return discard(str(exc), 3)
    except RebuildRefused as exc:
        return discard(f"the rebuilt archive was not swapped in: {exc}", 6)
    except (sqlite3.Error, OSError) as exc:  # the disk filled up in the swap: its transaction was rolled back
        return discard(f"the rebuilt rows could not be written into {swapped}: {describe(exc)}", 1)
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}.lock")):
        leftover.unlink(missing_ok=True)
    if into is not None:  # only a whole, swapped copy takes the --into name (a kill before leaves a .partial file)
        Path(f"{partial}.lock").unlink(missing_ok=True)
        try:
            os.link(partial, into)  # never over a file that appeared meanwhile
        except OSError as exc:
            return discard(f"could not name the new archive {into}: {exc}", 4)
        partial.unlink()
        print(f"New archive: {into}" + (f" (the rows of the {len(unreadable)} unreadable WARC file(s) kept as they were)" if unreadable else ""))
    print(f"Replaced articles and duplicates in {into or db_path}: {report['articles']} articles "
          f"({report['ids_kept']} kept their id), {report['duplicates']} duplicates; "
          f"{report['kept_articles']} articles and {report['kept_duplicates']} duplicates the rebuild did not produce "
          "kept as they were")
    return 0


def _partial_files(into: Path | None) -> list[Path]:
    """What a killed `--into` run of the same path may have left (the copy never took the --into name)."""
    if into is None:
        return []
    partial = into.with_name(into.name + ".partial")
    return [partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")]


def _copy(db_path: Path, into: Path) -> None:
    """`--into`: a consistent copy of the archive (SQLite's backup API, WAL included), into a file that
    must still not exist; the rebuilt rows are then swapped into it as they would be in place, so it
    keeps the archive's ids, `versions`, `pages` and `crawls`. The caller checked `into` is free."""
    source = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(into)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def _target(db_path: Path, into: str | None) -> Path:
    """Where the rebuilt archive is made: a scratch file beside the archive (in place) or beside
    `--into` (a new file, never an existing one), whose rows are swapped into the archive or its copy."""
    from pipelines.archive.checks import ArchiveError, archive_files, check_archive_path, same_file

    check_archive_path(db_path)
    if not into:
        real = db_path.resolve()
        return real.with_name(real.stem + ".reextract.db")
    target = Path(into)
    if any(same_file(target, kept) for kept in archive_files(db_path)):
        raise ArchiveError(f"--into {target} is the archive --db {db_path} itself; to rebuild it in place, leave out --into")
    if target.exists() or target.is_symlink():
        raise ArchiveError(f"--into {target} exists; reextract writes a new archive and never deletes one: "
                           "remove it yourself or choose another path")
    return target.with_name(target.name + ".reextract.db")
