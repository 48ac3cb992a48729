"""`arshif merge`: combine the shards of a cluster run into one archive, deduplicating across them.

Each worker of a cluster run writes its own shard (`--db data/shard-N.db`); a
story fetched by two workers, or a copy of it, is caught here, by the crawl's
own decision code (pipelines.dedup.DedupPipeline) run over the shards' articles
in fetch order, source by source, as one run would have met them; those decisions
do not depend on that order (which exact copy is the article, which articles form
a story), so neither does the merged archive. Then the
shards' own duplicates are carried over with `duplicate_of` pointing at the
merged article, and their crawls and pages are added. Writes go through
open_archive(), so the search index is kept current by its triggers.

Merging is idempotent: an article or duplicate whose URL the archive holds is
not added again, a crawl is recognised by `arshif/merged_from` in its stats,
and a page row is replaced only by a newer fetch.
"""

from __future__ import annotations

import heapq
import json
import os
import shutil
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from pipelines.archive.kill_points import KillPoint

EXAMPLE = "Example: arshif merge data/shard-1.db data/shard-2.db data/shard-3.db --into data/archive.db"
MERGED_FROM = "arshif/merged_from"  # crawls.stats key: which shard crawl a merged crawls row is
BATCH = int(os.environ.get("ARSHIF_MERGE_BATCH") or 500)  # rows a transaction (the variable: tests' many batches)
# tests only: the merge dies (as kill -9) right after its Nth committed batch of articles
_BATCH_COMMITTED = KillPoint("ARSHIF_MERGE_EXIT_AFTER_BATCHES")
_DUPLICATE_COLUMNS = ("url", "canonical_url", "source", "title", "fetched_at", "similarity", "kind",
                      "warc_file", "warc_offset", "warc_length")


def register(sub) -> None:
    parser = sub.add_parser(
        "merge",
        help="combine the shards of a cluster run into one archive (duplicates across shards caught)",
        description=EXAMPLE,
    )
    parser.add_argument("shards", nargs="+", metavar="SHARD", help="shard archives written by `arshif crawl --redis`")
    parser.add_argument("--into", required=True, metavar="ARCHIVE", help="the archive to merge into (created if absent)")
    parser.add_argument("--no-warc", action="store_true",
                        help="do not link or copy the shards' WARC files into warc/ beside ARCHIVE")
    parser.set_defaults(func=cmd_merge)


def cmd_merge(args) -> int:
    from pipelines.archive.lock import ArchiveLock, ArchiveLocked

    target = Path(args.into)
    shards = [Path(shard) for shard in args.shards]
    for shard in shards:
        if not shard.is_file():
            print(f"arshif merge: no shard at {shard}", file=sys.stderr)
            return 2
        if target.exists() and shard.resolve() == target.resolve():
            print(f"arshif merge: {shard} is the archive merged into", file=sys.stderr)
            return 2
    locks = [ArchiveLock(path) for path in (target, *shards)]
    try:
        for lock in locks:
            lock.acquire()
    except ArchiveLocked as exc:
        for lock in locks:
            lock.release()
        print(f"arshif merge: {exc}", file=sys.stderr)
        return 3
    try:
        report = merge(target, shards, warc=not args.no_warc)
    except (sqlite3.Error, OSError) as exc:  # a full disk: what was committed stays, the same merge completes it
        from pipelines.outcomes.write_failure import describe

        print(f"arshif merge: cannot write {target}: {describe(exc)}; the batches committed before stay, and the same"
              " merge run again (with room) adds the rest", file=sys.stderr)
        return 1
    finally:
        for lock in locks:
            lock.release()
    print(summary_line(report, len(shards), target))
    for note in report.notes:
        print(f"arshif merge: {note}", file=sys.stderr)
    return 0


@dataclass
class MergeReport:
    crawls_added: int = 0
    stored: int = 0  # shard articles added as articles
    duplicate: int = 0  # shard articles found to copy another shard's or the archive's
    already_archived: int = 0  # shard articles whose URL the archive holds (a second merge: all of them)
    duplicates_added: int = 0  # the shards' own duplicates rows carried over
    edited: int = 0  # shard articles fetched later than the archive's, with another text (the old one kept as a version)
    earlier: int = 0  # shard articles fetched before the archive's, with another text (kept as a version before it)
    versions_added: int = 0  # the shards' own versions rows carried over
    pages: int = 0  # page rows added or replaced by a newer fetch
    warc_linked: int = 0
    warc_copied: int = 0
    warc_missing: int = 0
    notes: list[str] = field(default_factory=list)


def summary_line(report: MergeReport, shards: int, target: Path) -> str:
    return (
        f"merge: {shards} shards into {target}: {report.crawls_added} crawls added; "
        f"articles: {report.stored} added, {report.duplicate} found to duplicate another shard's or the archive's, "
        f"{report.already_archived} already in the archive, {report.edited} newer texts of archived articles, "
        f"{report.earlier} older texts kept as versions; "
        f"{report.duplicates_added} duplicate rows and {report.versions_added} earlier versions carried over; "
        f"{report.pages} page rows added or updated; WARC files: {report.warc_linked} linked, "
        f"{report.warc_copied} copied, {report.warc_missing} missing"
    )


def merge(target: Path, shards: list[Path], warc: bool = True) -> MergeReport:
    """Merge the shards into the archive at `target`; return counts (and `notes`)."""
    from pipelines.archive.database import open_archive

    report = MergeReport()
    db = open_archive(target)
    readers = [_open_shard(path) for path in shards]
    try:
        crawl_ids = [_merge_crawls(db, path, reader, report) for path, reader in zip(shards, readers)]
        sources = sorted({row[0] for reader in readers for row in reader.execute("SELECT DISTINCT source FROM articles")})
        for source in sources:
            _merge_articles(db, target, source, readers, crawl_ids, report)
        for reader, crawls in zip(readers, crawl_ids):
            _merge_duplicates(db, reader, crawls, report)
            _merge_versions(db, reader, crawls, report)
        for reader, crawls in zip(readers, crawl_ids):
            _merge_pages(db, reader, crawls, report)
        if warc:
            for path, reader in zip(shards, readers):
                _link_warc(path, reader, target.parent / "warc", report)
    finally:
        for reader in readers:
            reader.close()
        db.close()
    return report


def _open_shard(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


# -- crawls ---------------------------------------------------------------------------


def _merge_crawls(db, path: Path, reader, report: MergeReport) -> dict[int, int]:
    """Add (or bring up to date) the shard's crawls rows; return shard crawl id → archive crawl id."""
    merged = {}
    for crawl_id, stats in db.execute("SELECT id, stats FROM crawls"):
        origin = json.loads(stats or "{}").get(MERGED_FROM)
        if origin:
            merged[origin] = crawl_id
    mapping = {}
    columns = set(db["crawls"].columns_dict) - {"id", "stats"}
    for row in reader.execute("SELECT * FROM crawls ORDER BY id"):
        row = dict(row)
        origin = f"{path.name}#{row['id']}@{row['started_at']}"
        values = {column: row[column] for column in columns if column in row}
        if values["status"] == "running":  # the shard is not locked: its writer is gone
            values["status"] = "killed"
        values["stats"] = json.dumps({**json.loads(row.get("stats") or "{}"), MERGED_FROM: origin},
                                     ensure_ascii=False, sort_keys=True)
        with db.atomic():
            if origin in merged:
                db["crawls"].update(merged[origin], values)
                mapping[row["id"]] = merged[origin]
            else:
                mapping[row["id"]] = db["crawls"].insert(values).last_pk
                report.crawls_added += 1
    return mapping


# -- articles: the crawl's dedup decision over all shards ------------------------------------


class _Stats(Counter):
    """The part of Scrapy's stats collector the pipeline uses."""

    def inc_value(self, key, count=1, start=0):
        self[key] += count

    def get_value(self, key, default=None):
        return self.get(key, default)

    def set_value(self, key, value):
        self[key] = value


def _dedup_pipeline(target: Path, source_name: str, report: MergeReport):
    """DedupPipeline as a crawl of `source_name` into the archive would build it."""
    from crawler.cli.common import crawl_settings as _settings
    from crawler.sources import SourceError, load_source
    from pipelines.dedup import DedupPipeline

    try:
        source = load_source(source_name)
    except SourceError:
        source = None
        report.notes.append(f"source {source_name!r} is not in seeds/: its URLs are compared without url_fold")
    settings = _settings(str(target), "WARNING")
    settings.set("ARSHIF_REFRESH", True, priority="cmdline")  # a later fetch with another text is an edit
    from scrapy.signalmanager import SignalManager

    crawler = SimpleNamespace(
        settings=settings,
        signals=SignalManager(),  # the pipelines connect to signals (an import's commit units); merge sends none
        stats=_Stats(),
        spider=SimpleNamespace(name="merge", source=source, source_name=source_name),
    )
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def _merge_articles(db, target: Path, source: str, readers, crawl_ids, report: MergeReport) -> None:
    from scrapy.exceptions import DropItem

    from crawler.items import PageItem

    streams = [
        ((row["fetched_at"] or "", index, row["id"], row) for row in
         reader.execute("SELECT * FROM articles WHERE source = ? ORDER BY fetched_at, id", [source]))
        for index, reader in enumerate(readers)
    ]
    pipeline = _dedup_pipeline(target, source, report)
    writer = _Writer(db, pipeline.near)
    try:
        for _, index, _, row in heapq.merge(*streams, key=lambda entry: entry[:3]):
            record = {key: row[key] for key in row.keys() if key != "id"}
            record["crawl_id"] = crawl_ids[index].get(record["crawl_id"])
            item = PageItem(url=record["url"], source=source, body=b"", record=record)
            try:
                try:
                    pipeline.process_item(item)
                except DropItem:
                    if not writer.pending():
                        raise
                    writer.flush()  # the URL may be an article this merge added: is this a later text of it?
                    pipeline.process_item(item)
            except DropItem:
                report.already_archived += 1
                continue
            if item.edit:
                writer.edits.append(record)
                if item.edit == "earlier":  # older than the archive's text: kept as a version before it
                    report.earlier += 1
                else:
                    report.edited += 1
            elif item.duplicate:
                writer.duplicate(record, item.duplicate, record["crawl_id"])
                report.duplicate += 1
            else:
                writer.article(record, item.replaces)
                if item.replaces:
                    report.duplicate += 1
                else:
                    report.stored += 1
        writer.flush()
    finally:
        pipeline.close_spider()
    from pipelines.similarity.stories import resolve_stories

    resolve_stories(db)  # this source's merged articles: their verified pairs become stories


class _Writer:
    """Batched writes of merged rows, as StoragePipeline batches a crawl's.

    The near-duplicate index's new rows are written by the same connection in the same
    transaction as the articles they name: a merge killed at any point leaves either both
    or neither, so a rerun never meets an indexed id without its article."""


    def __init__(self, db, near=None):
        self.db = db
        self.near = near
        if near is not None:
            near.db = db  # its reads see this merge's rows, its writes join this merge's transactions
            near.batch_size = 1 << 62  # never on its own: with the batch its articles are in
        self.articles: list[dict] = []
        self.duplicates: list[dict] = []
        self.replacements: list[dict] = []
        self.edits: list[dict] = []

    def duplicate(self, record: dict, duplicate: dict, crawl_id: int | None) -> None:
        self.duplicates.append({
            **{column: record.get(column) for column in _DUPLICATE_COLUMNS},
            "duplicate_of": duplicate["of"], "similarity": duplicate["similarity"], "kind": duplicate["kind"],
            "crawl_id": crawl_id,
        })
        self._maybe_flush()

    def article(self, record: dict, replaces: dict | None) -> None:
        if not replaces:
            self.articles.append(record)
            self._maybe_flush()
            return
        from pipelines.archive.database import take_place

        take_place(self, record, replaces)  # the displaced copy keeps its own crawl_id

    def pending(self) -> bool:
        return bool(self.articles or self.duplicates or self.replacements or self.edits)

    def _maybe_flush(self) -> None:
        if len(self.articles) + len(self.duplicates) >= BATCH:
            self.flush()

    def flush(self) -> None:
        from pipelines.archive.database import insert_rows

        if self.pending():
            with self.db.atomic():
                insert_rows(self.db, self.articles, self.duplicates, self.replacements, edits=self.edits)
                if self.near is not None:
                    self.near.flush()
            self.articles, self.duplicates, self.replacements, self.edits = [], [], [], []
            _BATCH_COMMITTED.reached()


# -- the shards' own duplicates, pages and WARC files -----------------------------------------


def _batched(cursor):
    while rows := cursor.fetchmany(BATCH):
        yield [dict(row) for row in rows]


def _lookup(db, sql: str, keys: list) -> dict:
    return dict(db.execute(sql.format(marks=",".join("?" * len(keys))), keys).fetchall()) if keys else {}


def _merge_duplicates(db, reader, crawl_ids: dict, report: MergeReport) -> None:
    """Carry the shard's duplicates over, pointing at the article their original became in the archive."""
    for rows in _batched(reader.execute(
        "SELECT d.*, a.url AS original_url FROM duplicates d LEFT JOIN articles a ON a.id = d.duplicate_of"
    )):
        urls = [row["url"] for row in rows]
        known = set(_lookup(db, "SELECT url, id FROM articles WHERE url IN ({marks})", urls))
        known |= set(_lookup(db, "SELECT url, id FROM duplicates WHERE url IN ({marks})", urls))
        originals = [row["original_url"] for row in rows if row["original_url"]]
        merged_ids = _lookup(db, "SELECT url, duplicate_of FROM duplicates WHERE url IN ({marks})", originals)
        merged_ids.update(_lookup(db, "SELECT url, id FROM articles WHERE url IN ({marks})", originals))
        fresh = []
        for row in rows:
            original = merged_ids.get(row["original_url"])
            if row["url"] in known or original is None:
                continue
            known.add(row["url"])
            fresh.append({**{column: row.get(column) for column in _DUPLICATE_COLUMNS},
                          "duplicate_of": original, "crawl_id": crawl_ids.get(row["crawl_id"])})
        if fresh:
            with db.atomic():
                db["duplicates"].insert_all(fresh, ignore=True)
            report.duplicates_added += len(fresh)


def _merge_versions(db, reader, crawl_ids: dict, report: MergeReport) -> None:
    """Carry the shard's earlier versions of its articles over, to the archive's article with that URL."""
    if not reader.execute("SELECT 1 FROM sqlite_master WHERE name = 'versions'").fetchone():
        return
    for rows in _batched(reader.execute("SELECT v.*, a.url AS article_url FROM versions v JOIN articles a ON a.id = v.article_id")):
        ids = _lookup(db, "SELECT url, id FROM articles WHERE url IN ({marks})", [row["article_url"] for row in rows])
        fresh = []
        for row in rows:
            article_id = ids.get(row["article_url"])
            if article_id is None or db.execute(
                "SELECT 1 FROM versions WHERE article_id = ? AND content_hash IS ? AND fetched_at IS ?",
                [article_id, row["content_hash"], row["fetched_at"]],
            ).fetchone():
                continue
            fresh.append({**{k: row[k] for k in row.keys() if k not in ("id", "article_url")},
                          "article_id": article_id, "crawl_id": crawl_ids.get(row["crawl_id"])})
        if fresh:
            with db.atomic():
                db["versions"].insert_all(fresh)
            report.versions_added += len(fresh)


def _merge_pages(db, reader, crawl_ids: dict, report: MergeReport) -> None:
    """Add the shard's page rows; a URL fetched by two shards keeps its latest fetch."""
    shard_columns = {row[1] for row in reader.execute("PRAGMA table_info(pages)")}
    page_columns = [column for column in db["pages"].columns_dict if column in shard_columns]
    names = ", ".join(page_columns)
    updates = ", ".join(f"{column} = excluded.{column}" for column in page_columns if column != "url")
    sql = (f"INSERT INTO pages ({names}) VALUES ({', '.join('?' * len(page_columns))}) "
           f"ON CONFLICT(url) DO UPDATE SET {updates} WHERE excluded.fetched_at > pages.fetched_at")
    for rows in _batched(reader.execute("SELECT * FROM pages")):
        values = [[crawl_ids.get(row["crawl_id"]) if c == "crawl_id" else row[c] for c in page_columns] for row in rows]
        with db.atomic():
            before = db.conn.total_changes
            db.conn.executemany(sql, values)
            report.pages += db.conn.total_changes - before
    with db.atomic():  # an article page's outcome is the merged one
        db.execute("UPDATE pages SET outcome = 'duplicate' WHERE outcome = 'stored' AND url IN (SELECT url FROM duplicates)")
        db.execute("UPDATE pages SET outcome = 'stored' WHERE outcome = 'duplicate' AND url IN (SELECT url FROM articles)")


def _link_warc(shard: Path, reader, folder: Path, report: MergeReport) -> None:
    """Hard-link (else copy) the WARC files the shard's rows point to into the archive's WARC folder."""
    source = shard.parent / "warc"
    folder.mkdir(parents=True, exist_ok=True)
    if source.resolve() == folder.resolve():
        return
    names = {row[0] for table in ("articles", "duplicates", "pages")
             for row in reader.execute(f"SELECT DISTINCT warc_file FROM {table} WHERE warc_file IS NOT NULL")}
    for name in sorted(names):
        warc = source / name
        for path in (warc, warc.with_name(name[: -len(".warc.gz")] + ".cdxj")):
            destination = folder / path.name
            if destination.exists():
                continue
            if not path.is_file():
                if path is warc:
                    report.warc_missing += 1
                continue
            try:
                os.link(path, destination)
                report.warc_linked += path is warc
            except OSError:
                shutil.copy2(path, destination)
                report.warc_copied += path is warc
