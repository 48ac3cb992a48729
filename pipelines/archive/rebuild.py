"""Swap a rebuilt archive's rows into the live one (`arshif reextract`), in one checked transaction.

Articles keep the ids, crawl ids and stories of the rows with their URL; a check
that fails rolls the whole swap back, so readers see the old archive or the new.
`ArchivedReferences` says which WARC records the rebuild replays: those the rows name.
"""

from __future__ import annotations

import os
import sqlite3
from array import array
from bisect import bisect_left
from pathlib import Path

from pipelines.similarity import index_tables


class RebuildRefused(RuntimeError):
    """The rebuilt archive failed a check: the live archive was left as it was."""


def _columns(connection: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f"PRAGMA {schema}.table_info({table})")]


def replace_tables(connection: sqlite3.Connection, source: Path) -> dict:
    """Swap the rebuilt rows in, in ONE transaction; crawls, pages and versions stay as they are.

    Ids are kept: a rebuilt article (or duplicate) whose URL the archive holds takes that row's id,
    `crawl_id` and `fetched_at` (and its `story_match` while it stays in the same story: which member
    it matched on arrival depends on the replay's order); only rows of URLs new to the archive get ids, above every id it ever gave.
    Stories are renumbered with them (a story's id is its smallest article id), and the
    near-duplicate index is copied from the rebuild under the same ids: signatures, bands and verified
    pairs; the template counts and over-full buckets are counted again from what is then indexed,
    and every run counts as decided (pipelines/similarity/index_tables.py). A URL the archive holds
    that the rebuild did not produce (its WARC was unreadable and skipped, or its page no longer
    extracts) keeps its old row: a reextract never removes an archived article.

    Before COMMIT the result is checked (integrity, FTS rowids equal article ids, no duplicate
    or index row pointing at a missing article, counts); any failure rolls everything back.
    A reader (`arshif serve`, WAL mode) sees the archive before or after, never between.
    Returns counts for the report.
    """
    if connection.execute("PRAGMA main.journal_mode").fetchone()[0] != "wal":
        raise RebuildRefused("the archive is not in WAL mode")
    connection.execute("ATTACH DATABASE ? AS rebuilt", [str(source)])
    try:
        check = connection.execute("PRAGMA rebuilt.integrity_check").fetchall()
        if check != [("ok",)]:
            raise RebuildRefused(f"the rebuilt archive fails integrity_check: {check[:5]}")
        connection.execute("BEGIN IMMEDIATE")
        try:
            report = _swap(connection)
            _check_swapped(connection, report)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return report
    finally:
        for table in ("old_rows", "produced", "kept_articles", "kept_duplicates", "idmap", "storymap", "kept_signatures",
                      "kept_bands", *index_tables.TEMP_TABLES):
            connection.execute(f"DROP TABLE IF EXISTS temp.{table}")
        connection.execute("DETACH DATABASE rebuilt")


def _exit_point(name: str) -> None:
    """Tests only (ARSHIF_TEST_EXIT_IN_SWAP=name): die as kill -9 would, inside the swap's open transaction."""
    if os.environ.get("ARSHIF_TEST_EXIT_IN_SWAP") == name:
        os._exit(137)


def _swap(c: sqlite3.Connection) -> dict:
    has_index = bool(c.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'near_duplicate_signatures'").fetchone()) and \
        bool(c.execute("SELECT 1 FROM rebuilt.sqlite_master WHERE name = 'near_duplicate_signatures'").fetchone())
    c.execute("CREATE TEMP TABLE old_rows (url TEXT PRIMARY KEY, kind TEXT, id INTEGER, crawl_id INTEGER, fetched_at TEXT,"
              " story_id INTEGER, story_match INTEGER, story_similarity REAL)")
    c.execute("INSERT OR IGNORE INTO temp.old_rows SELECT url, 'article', id, crawl_id, fetched_at, story_id, story_match,"
              " story_similarity FROM main.articles")
    c.execute("INSERT OR IGNORE INTO temp.old_rows SELECT url, 'duplicate', id, crawl_id, fetched_at, NULL, NULL, NULL"
              " FROM main.duplicates")
    c.execute("CREATE TEMP TABLE produced (url TEXT PRIMARY KEY)")
    c.execute("INSERT OR IGNORE INTO temp.produced SELECT url FROM rebuilt.articles UNION ALL SELECT url FROM rebuilt.duplicates")
    c.execute("CREATE TEMP TABLE kept_articles AS SELECT * FROM main.articles WHERE url NOT IN (SELECT url FROM temp.produced)")
    c.execute("CREATE TEMP TABLE kept_duplicates AS SELECT d.*, a.url AS target_url FROM main.duplicates d"
              " LEFT JOIN main.articles a ON a.id = d.duplicate_of WHERE d.url NOT IN (SELECT url FROM temp.produced)")
    highest = ["SELECT MAX(id) FROM main.articles", "SELECT MAX(article_id) FROM main.versions"]
    if has_index:
        highest.append("SELECT MAX(article_id) FROM main.near_duplicate_signatures")
    article_base = max(c.execute(query).fetchone()[0] or 0 for query in highest)  # no id is ever given twice
    c.execute("CREATE TEMP TABLE idmap (old INTEGER PRIMARY KEY, new INTEGER NOT NULL UNIQUE)")
    c.execute(
        "INSERT INTO temp.idmap SELECT r.id, COALESCE(o.id, ? + ROW_NUMBER() OVER (ORDER BY r.id)) FROM rebuilt.articles r"
        " LEFT JOIN temp.old_rows o ON o.url = r.url AND o.kind = 'article'", [article_base])
    c.execute("CREATE TEMP TABLE storymap (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
    c.execute("INSERT INTO temp.storymap SELECT r.story_id, MIN(m.new) FROM rebuilt.articles r JOIN temp.idmap m ON m.old = r.id"
              " WHERE r.story_id IS NOT NULL GROUP BY r.story_id")
    if has_index:
        c.execute("CREATE TEMP TABLE kept_signatures AS SELECT * FROM main.near_duplicate_signatures"
                  " WHERE article_id IN (SELECT id FROM temp.kept_articles)")
        c.execute("CREATE TEMP TABLE kept_bands AS SELECT * FROM main.near_duplicate_bands"
                  " WHERE article_id IN (SELECT id FROM temp.kept_articles)")
    duplicate_base = c.execute("SELECT COALESCE(MAX(id), 0) FROM main.duplicates").fetchone()[0]

    c.execute("DELETE FROM main.duplicates")
    c.execute("DELETE FROM main.articles")  # the FTS trigger deletes their search rows

    columns = [name for name in _columns(c, "main", "articles") if name in _columns(c, "rebuilt", "articles")]
    # which member an article matched on arrival depends on the replay's order, not on the texts: an article
    # still in the story it was in keeps the match it was archived with
    same_story = ("(o.kind = 'article' AND o.story_id = COALESCE(s.new, m.new) AND (o.story_match IS NULL OR EXISTS"
                  " (SELECT 1 FROM temp.idmap m2 JOIN rebuilt.articles r2 ON r2.id = m2.old"
                  "  WHERE m2.new = o.story_match AND r2.story_id = r.story_id)))")
    special = {
        "id": "m.new",
        "crawl_id": "o.crawl_id",
        "fetched_at": "COALESCE(o.fetched_at, r.fetched_at)",  # the crawl's clock; the WARC date is rounded to the second
        "story_id": "COALESCE(s.new, m.new)",
        "story_match": f"CASE WHEN {same_story} THEN o.story_match ELSE sm.new END",
        "story_similarity": f"CASE WHEN {same_story} THEN o.story_similarity ELSE r.story_similarity END",
    }
    select = ", ".join(special.get(name, f"r.{name}") for name in columns)
    c.execute(
        f"INSERT INTO main.articles ({', '.join(columns)}) SELECT {select} FROM rebuilt.articles r"
        " JOIN temp.idmap m ON m.old = r.id LEFT JOIN temp.storymap s ON s.old = r.story_id"
        " LEFT JOIN temp.idmap sm ON sm.old = r.story_match"
        " LEFT JOIN temp.old_rows o ON o.url = r.url ORDER BY m.new")
    kept_columns = _columns(c, "main", "articles")
    c.execute(f"INSERT INTO main.articles ({', '.join(kept_columns)}) SELECT {', '.join(kept_columns)} FROM temp.kept_articles")
    c.execute("UPDATE main.articles SET story_id = id WHERE id IN (SELECT id FROM temp.kept_articles)"
              " AND story_id NOT IN (SELECT id FROM main.articles)")

    columns = [name for name in _columns(c, "main", "duplicates") if name in _columns(c, "rebuilt", "duplicates")]
    special = {
        "id": "COALESCE(o.id, ? + ROW_NUMBER() OVER (ORDER BY r.id))",
        "crawl_id": "o.crawl_id",
        "fetched_at": "COALESCE(o.fetched_at, r.fetched_at)",
        "duplicate_of": "m.new",
    }
    select = ", ".join(special.get(name, f"r.{name}") for name in columns)
    c.execute(
        f"INSERT INTO main.duplicates ({', '.join(columns)}) SELECT {select} FROM rebuilt.duplicates r"
        " LEFT JOIN temp.idmap m ON m.old = r.duplicate_of LEFT JOIN temp.old_rows o ON o.url = r.url AND o.kind = 'duplicate'",
        [max(duplicate_base, c.execute("SELECT COALESCE(MAX(id), 0) FROM temp.kept_duplicates").fetchone()[0])])
    # a kept duplicate whose article is now another row points at the row that holds the article's URL
    c.execute(
        "UPDATE temp.kept_duplicates SET duplicate_of = COALESCE("
        " (SELECT id FROM main.articles WHERE url = target_url),"
        " (SELECT duplicate_of FROM main.duplicates WHERE url = target_url), duplicate_of)"
        " WHERE duplicate_of NOT IN (SELECT id FROM main.articles)")
    kept_columns = _columns(c, "main", "duplicates")
    c.execute(f"INSERT INTO main.duplicates ({', '.join(kept_columns)}) SELECT {', '.join(kept_columns)} FROM temp.kept_duplicates"
              " WHERE id NOT IN (SELECT id FROM main.duplicates)")
    c.execute(f"INSERT INTO main.duplicates ({', '.join(c for c in kept_columns if c != 'id')})"
              f" SELECT {', '.join(c for c in kept_columns if c != 'id')} FROM temp.kept_duplicates"
              " WHERE id IN (SELECT id FROM main.duplicates) AND url NOT IN (SELECT url FROM main.duplicates)")

    if has_index:
        c.execute("DELETE FROM main.near_duplicate_bands")
        c.execute("DELETE FROM main.near_duplicate_signatures")
        sig_columns = [name for name in _columns(c, "main", "near_duplicate_signatures") if name != "article_id"]
        c.execute(f"INSERT INTO main.near_duplicate_signatures (article_id, {', '.join(sig_columns)})"
                  f" SELECT m.new, {', '.join('r.' + name for name in sig_columns)} FROM rebuilt.near_duplicate_signatures r"
                  " JOIN temp.idmap m ON m.old = r.article_id")
        c.execute("INSERT OR IGNORE INTO main.near_duplicate_bands (band_key, article_id)"
                  " SELECT r.band_key, m.new FROM rebuilt.near_duplicate_bands r JOIN temp.idmap m ON m.old = r.article_id")
        c.execute("INSERT OR REPLACE INTO main.near_duplicate_signatures SELECT * FROM temp.kept_signatures")
        c.execute("INSERT OR IGNORE INTO main.near_duplicate_bands SELECT * FROM temp.kept_bands")
        if index_tables.has_tables(c, "main") and index_tables.has_tables(c, "rebuilt"):
            _exit_point("index")
            index_tables.describe_archive(c)  # pairs, template counts, full buckets, runs: of the archive as it now is
    _exit_point("swapped")
    return {
        "articles": c.execute("SELECT COUNT(*) FROM rebuilt.articles").fetchone()[0],
        "duplicates": c.execute("SELECT COUNT(*) FROM rebuilt.duplicates").fetchone()[0],
        "kept_articles": c.execute("SELECT COUNT(*) FROM temp.kept_articles").fetchone()[0],
        "kept_duplicates": c.execute("SELECT COUNT(*) FROM temp.kept_duplicates").fetchone()[0],
        "ids_kept": c.execute("SELECT COUNT(*) FROM temp.idmap m JOIN temp.old_rows o ON o.id = m.new AND o.kind = 'article'"
                              " JOIN rebuilt.articles r ON r.id = m.old AND r.url = o.url").fetchone()[0],
        "index": has_index,
    }


def _check_swapped(c: sqlite3.Connection, report: dict) -> None:
    """The checks the swapped rows must pass before COMMIT (RebuildRefused rolls back)."""
    problems = []
    articles = c.execute("SELECT COUNT(*) FROM main.articles").fetchone()[0]
    if articles != report["articles"] + report["kept_articles"]:
        problems.append(f"{articles} articles after the swap, expected {report['articles'] + report['kept_articles']}")
    duplicates = c.execute("SELECT COUNT(*) FROM main.duplicates").fetchone()[0]
    if duplicates != report["duplicates"] + report["kept_duplicates"]:
        problems.append(f"{duplicates} duplicates after the swap, expected {report['duplicates'] + report['kept_duplicates']}")
    lost = c.execute("SELECT COUNT(*) FROM temp.old_rows WHERE url NOT IN (SELECT url FROM main.articles)"
                     " AND url NOT IN (SELECT url FROM main.duplicates)").fetchone()[0]
    if lost:
        problems.append(f"{lost} archived URLs would have no row")
    orphans = c.execute("SELECT COUNT(*) FROM main.duplicates WHERE duplicate_of NOT IN (SELECT id FROM main.articles)").fetchone()[0]
    if orphans:
        problems.append(f"{orphans} duplicates would point at no article")
    if report["index"]:
        orphans = c.execute("SELECT COUNT(*) FROM main.near_duplicate_signatures"
                            " WHERE article_id NOT IN (SELECT id FROM main.articles)").fetchone()[0]
        if orphans:
            problems.append(f"{orphans} near-duplicate signatures would name no article")
        if index_tables.has_tables(c, "main"):
            orphans = c.execute("SELECT COUNT(*) FROM main.near_duplicate_pairs WHERE article_id NOT IN"
                                " (SELECT id FROM main.articles) OR match_id NOT IN (SELECT id FROM main.articles)").fetchone()[0]
            if orphans:
                problems.append(f"{orphans} near-duplicate pairs would name no article")
    fts = c.execute("SELECT COUNT(*) FROM main.articles_fts").fetchone()[0]
    missing = c.execute("SELECT COUNT(*) FROM main.articles WHERE id NOT IN (SELECT rowid FROM main.articles_fts)").fetchone()[0]
    if fts != articles or missing:
        problems.append(f"the search index has {fts} rows for {articles} articles ({missing} missing)")
    check = c.execute("PRAGMA main.integrity_check").fetchall()
    if check != [("ok",)]:
        problems.append(f"integrity_check: {check[:5]}")
    if problems:
        raise RebuildRefused("; ".join(problems))


class ArchivedReferences:
    """Which WARC records `arshif reextract` replays: what the archive's rows reference, not every record.

    A URL fetched twice (an edited article, `--refresh`) has two response records; its article row
    names the newest, and the texts it had before are `versions` rows, which a reextract leaves alone.
    Replaying both would bring the older text back. So a record is replayed when an `articles` or
    `duplicates` row names it, or the `pages` row of an article page with neither row does (a page
    that yielded no article may yield one under new extraction code); a URL the archive references
    nowhere (a WARC from elsewhere, a run killed before its rows were committed) has all its records
    replayed, as they come, if its WARC file is one the archive's rows name: a file no row names
    is another archive's sharing the folder (or a run killed before it committed a row) and is
    not replayed (`foreign`), unless the archive names no WARC record at all (an archive older
    than WARC references: nothing can tell its files from others', `knows_files` is False).
    Offsets are kept per file as sorted arrays (8 bytes a record).
    """

    def __init__(self, db_path: str | Path):
        self._conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
        self._offsets: dict[str, array] = {}
        rows = self._conn.execute(
            "SELECT warc_file, warc_offset FROM articles WHERE warc_file IS NOT NULL"
            " UNION SELECT warc_file, warc_offset FROM duplicates WHERE warc_file IS NOT NULL"
            " UNION SELECT warc_file, warc_offset FROM pages p WHERE role = 'article' AND warc_file IS NOT NULL"
            "  AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.url = p.url)"
            "  AND NOT EXISTS (SELECT 1 FROM duplicates d WHERE d.url = p.url)"
            " ORDER BY 1, 2")
        for name, offset in rows:
            self._offsets.setdefault(name, array("q")).append(offset)
        self._files = set(self._offsets)
        for table in ("articles", "duplicates", "pages", "versions"):
            if self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone():
                self._files.update(row[0] for row in self._conn.execute(
                    f"SELECT DISTINCT warc_file FROM {table} WHERE warc_file IS NOT NULL"))
        self.knows_files = bool(self._files)
        self.foreign: set[str] = set()  # files of the folder no row names: not replayed

    def foreign_file(self, name: str) -> bool:
        """A WARC file this archive names nowhere (another archive's in a shared folder)."""
        if self.knows_files and name not in self._files:
            self.foreign.add(name)
            return True
        return False

    def wanted(self, url: str, name: str, offset: int) -> bool:
        """Replay this record (the one the archive names for its URL, or any of a URL it does not reference)?"""
        offsets = self._offsets.get(name)
        if offsets is not None:
            at = bisect_left(offsets, offset)
            if at < len(offsets) and offsets[at] == offset:
                return True
        if self.foreign_file(name):
            return False
        referenced = self._conn.execute(
            "SELECT 1 FROM articles WHERE url = ? AND warc_file IS NOT NULL"
            " UNION ALL SELECT 1 FROM duplicates WHERE url = ? AND warc_file IS NOT NULL"
            " UNION ALL SELECT 1 FROM pages WHERE url = ? AND role = 'article' AND warc_file IS NOT NULL LIMIT 1",
            [url, url, url]).fetchone()
        return referenced is None

    def close(self) -> None:
        self._conn.close()
