"""The SQLite archive: schema migrations and the few writes the crawl makes.

Plain sqlite-utils, no Scrapy: the pipelines, the CLI and the tests share it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from pipelines.archive.checks import check_archive_path
from pipelines.similarity.urls import fold_key
from pipelines.text.search_text import register_functions

ARTICLE_COLUMNS = (
    "url",
    "canonical_url",
    "source",
    "title",
    "author",
    "agency",
    "published",
    "description",
    "site_name",
    "fetched_at",
    "language",
    "language_prob",
    "text",
    "word_count",
    "content_hash",
    "encoding",
    "crawl_id",
    "warc_file",
    "warc_offset",
    "warc_length",
    "story_id",
    "story_match",
    "story_similarity",
)
OUTCOMES = (
    "stored",
    "duplicate",
    "already_archived",
    "not_article",
    "not_arabic",
    "too_old",
    "extraction_failed",
    "http_error",
)
RUN_COUNTS = ("skipped_archived", "not_modified", "limit_reached")

migrations = Migrations("arshif")


@migrations()
def m001_initial(db: Database) -> None:
    db["crawls"].create(
        {
            "id": int,
            "source": str,
            "started_at": str,
            "finished_at": str,
            "status": str,  # running, finished, killed, failed
            "pages_fetched": int,
            # spelled out: a migration must not change when OUTCOMES grows
            **{outcome: int for outcome in (
                "stored", "duplicate", "already_archived", "not_article", "not_arabic", "extraction_failed", "http_error",
            )},
            "stats": str,  # Scrapy stats as JSON
        },
        pk="id",
    )
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "canonical_url": str,
            "source": str,
            "title": str,
            "author": str,
            "published": str,
            "description": str,
            "site_name": str,
            "fetched_at": str,
            "language": str,
            "language_prob": float,
            "text": str,
            "word_count": int,
            "content_hash": str,
            "encoding": str,
            "crawl_id": int,
        },
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id")],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["canonical_url"])
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["source", "published"])
    db["articles"].create_index(["published"])
    db["articles"].create_index(["language"])
    db["duplicates"].create(
        {
            "id": int,
            "url": str,
            "canonical_url": str,
            "source": str,
            "title": str,
            "fetched_at": str,
            "duplicate_of": int,
            "similarity": float,
            "kind": str,  # url, exact, near
            "crawl_id": int,
        },
        pk="id",
        foreign_keys=[("duplicate_of", "articles", "id"), ("crawl_id", "crawls", "id")],
    )
    db["duplicates"].create_index(["url"], unique=True)
    db["duplicates"].create_index(["duplicate_of"])


_M002_STATEMENTS = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, tokenize = 'unicode61 remove_diacritics 0')",
    """
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, text)
    VALUES (new.id, arshif_search_text(new.title), arshif_search_text(new.text));
END
""",
    """
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    DELETE FROM articles_fts WHERE rowid = old.id;
END
""",
    """
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
    DELETE FROM articles_fts WHERE rowid = old.id;
    INSERT INTO articles_fts (rowid, title, text)
    VALUES (new.id, arshif_search_text(new.title), arshif_search_text(new.text));
END
""",
    """
INSERT INTO articles_fts (rowid, title, text)
    SELECT id, arshif_search_text(title), arshif_search_text(text) FROM articles
""",
)


@migrations()
def m002_search_index(db: Database) -> None:
    """FTS5 over the normalized, stemmed title and body, kept current by triggers.

    The triggers call arshif_search_text(), which open_archive() registers on
    every connection that writes the archive.
    """
    for statement in _M002_STATEMENTS:  # one by one: executescript() would commit the open transaction
        db.execute(statement)


@migrations()
def m003_raw_pages(db: Database) -> None:
    """WARC references on every row, and `pages`: one row per fetched URL.

    `pages.outcome` is written in the same transaction as the article or
    duplicate row, so a URL with an outcome is safely archived and an
    incremental crawl can skip it.
    """
    for table in ("articles", "duplicates"):
        db[table].add_column("warc_file", str)
        db[table].add_column("warc_offset", int)
        db[table].add_column("warc_length", int)
    db["pages"].create(
        {
            "url": str,
            "source": str,
            "role": str,  # article, listing, sitemap, feed, robots
            "status": int,
            "etag": str,
            "last_modified": str,
            "digest": str,  # WARC payload digest of the last full response
            "warc_date": str,
            "fetched_at": str,
            "outcome": str,  # stored, duplicate, not_arabic, ... (articles only)
            "warc_file": str,
            "warc_offset": int,
            "warc_length": int,
            "crawl_id": int,
        },
        pk="url",
    )
    db["pages"].create_index(["source", "role"])


@migrations()
def m004_incremental_counts(db: Database) -> None:
    """Incremental runs: article pages not downloaded again, listings answered 304."""
    db["crawls"].add_column("skipped_archived", int)
    db["crawls"].add_column("not_modified", int)


@migrations()
def m005_faults_and_warnings(db: Database) -> None:
    """Per-reason fault counts (JSON) and a warning for sources that look broken."""
    db["crawls"].add_column("faults", str)
    db["crawls"].add_column("warning", str)


@migrations()
def m006_too_old(db: Database) -> None:
    """Articles older than a source's `limits.newer_than` are counted, not stored."""
    db["crawls"].add_column("too_old", int)


# the original: earliest published, then first fetched. `published` keeps the page's own UTC offset
# (2025-05-01T23:00:00-05:00 is later than 2025-05-02T01:00:00+03:00), so it is compared in UTC
# (julianday); a date SQLite cannot read sorts after those it can, by its text. Last, the URL, not the id:
# members published and fetched in the same second (an import's WARC dates) are ordered by the pages
# themselves, so a killed and rerun import or crawl names the same original as a clean one
STORY_ORIGINAL_ORDER = ("published IS NULL, julianday(published) IS NULL, julianday(published), published, fetched_at,"
                        " url, id")
_STORY_ORIGINAL_ORDER_TEXT = "published IS NULL, published, fetched_at, id"  # m007's, until m180
_STORIES_VIEW = f"""
SELECT a.story_id AS id,
       (SELECT o.id FROM articles o WHERE o.story_id = a.story_id ORDER BY {STORY_ORIGINAL_ORDER} LIMIT 1) AS original_id,
       COUNT(*) AS members,
       COUNT(DISTINCT a.source) AS sources,
       MIN(a.published) AS first_published,
       MAX(a.published) AS last_published
FROM articles a
WHERE a.story_id IS NOT NULL
GROUP BY a.story_id
"""


@migrations()
def m007_stories(db: Database) -> None:
    """Story clusters: near copies are stored as articles of their own and grouped by `story_id`.

    `story_id` is the smallest article id of the story (an article alone is its own
    story), `story_match` the member the article was matched to when it was stored
    and `story_similarity` the exact Jaccard similarity of their word 3-shingles.
    `stories` is a view: its original is the earliest-published member (ties: the
    first fetched), computed from the members, so no row but the members' says
    which story they are in. Existing articles become stories of one; existing
    `near` rows of `duplicates` stay as they are (`arshif reextract` turns their
    pages into clustered articles).
    """
    db["articles"].add_column("story_id", int)
    db["articles"].add_column("story_match", int)
    db["articles"].add_column("story_similarity", float)
    db.execute("UPDATE articles SET story_id = id")
    db["articles"].create_index(["story_id"])
    db.execute(f"CREATE VIEW stories AS {_STORIES_VIEW.replace(STORY_ORIGINAL_ORDER, _STORY_ORIGINAL_ORDER_TEXT)}")


VERSIONED_COLUMNS = ("title", "author", "description", "text", "word_count", "content_hash", "fetched_at",
                     "crawl_id", "warc_file", "warc_offset", "warc_length")  # what an edit of a page changes


@migrations()
def m008_versions(db: Database) -> None:
    """Edited articles keep their history: when a page fetched again (`--refresh`) has another text,
    the text the article had until then becomes a `versions` row and the article shows the new one."""
    db["versions"].create(
        {"id": int, "article_id": int, "fetched_at": str, "title": str, "author": str, "description": str,
         "text": str, "word_count": int, "content_hash": str, "crawl_id": int,
         "warc_file": str, "warc_offset": int, "warc_length": int, "superseded_at": str},
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["versions"].create_index(["article_id"])


@migrations()
def m010_limit_reached(db: Database) -> None:
    """A run that stopped at its source's `max_pages` is finished, with this flag (1), not failed."""
    db["crawls"].add_column("limit_reached", int)


@migrations()
def m011_run_keys(db: Database) -> None:
    """What a run's outcomes were decided under: the source file's hash and the extraction version
    (an `extraction_failed`, `not_article` or `too_old` page is fetched again when either changes);
    and why a run `failed` (`error`: disk full, read-only, WARC folder gone)."""
    db["crawls"].add_column("source_digest", str)
    db["crawls"].add_column("extraction_version", int)
    db["crawls"].add_column("error", str)


@migrations()
def m020_article_agency(db: Database) -> None:
    """The news agency an article credits ("رويترز", "وكالات"), kept apart from its author."""
    db["articles"].add_column("agency", str)


_M030_STATEMENTS = (
    "CREATE INDEX IF NOT EXISTS idx_articles_crawl_id ON articles (crawl_id)",
    "CREATE INDEX IF NOT EXISTS idx_articles_published_source ON articles (published, source)",
    "CREATE INDEX IF NOT EXISTS idx_articles_undated ON articles (fetched_at)"
    " WHERE published IS NULL OR trim(published) = ''",
    "CREATE INDEX IF NOT EXISTS idx_duplicates_source ON duplicates (source)",
    "CREATE INDEX IF NOT EXISTS idx_articles_published_date ON articles (date(published))",
    "PRAGMA analysis_limit = 1000",
    "ANALYZE",
)


@migrations()
def m030_serving_indexes(db: Database) -> None:
    """Indexes the published pages' plans need at a million articles, and planner statistics.

    articles(crawl_id): latest_crawls counts each crawl's articles; (published, source):
    the index page's chart and the per-day counts read the index, not the table;
    the partial index on undated articles serves articles_without_date; date(published):
    the table page's date facet (datasette groups by that expression);
    duplicates(source): the sources query. ANALYZE (sampled) lets the planner
    choose between them.
    """
    for statement in _M030_STATEMENTS:
        db.execute(statement)


@migrations()
def m031_search_index_tanween(db: Database) -> None:
    """Rebuild the FTS index with the current search forms (light_stem now folds tanween: مؤتمراً → موتمر).

    Drop and refill (the triggers name the table and stay): a row-by-row DELETE
    from FTS5 would cost more than the rebuild. In the one migration transaction,
    so a kill leaves the old index. About a minute per 100,000 articles.
    """
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute(_M002_STATEMENTS[0])
    db.execute(_M002_STATEMENTS[-1])


_M080_STATEMENTS = (
    "CREATE INDEX IF NOT EXISTS idx_crawls_source_runs ON crawls (source, id, status, stored)",
    ("CREATE INDEX IF NOT EXISTS idx_crawls_source_warned ON crawls (source, id)"
     " WHERE warning IS NOT NULL OR error IS NOT NULL"),
    "CREATE INDEX IF NOT EXISTS idx_articles_source_fetched ON articles (source, fetched_at)",
    "PRAGMA analysis_limit = 1000",
    "ANALYZE idx_crawls_source_runs",
    "ANALYZE idx_articles_source_fetched",
)

_M090_STATEMENTS = (
    ("CREATE TABLE IF NOT EXISTS article_counts (source TEXT NOT NULL, day TEXT NOT NULL, articles INTEGER NOT NULL,"
     " PRIMARY KEY (source, day)) WITHOUT ROWID"),
    "DELETE FROM article_counts",
    ("INSERT INTO article_counts (source, day, articles) SELECT coalesce(source, ''), coalesce(date(published), ''),"
     " count(*) FROM articles GROUP BY 1, 2"),
    """
CREATE TRIGGER IF NOT EXISTS article_counts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO article_counts (source, day, articles)
    VALUES (coalesce(new.source, ''), coalesce(date(new.published), ''), 1)
    ON CONFLICT (source, day) DO UPDATE SET articles = articles + 1;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS article_counts_delete AFTER DELETE ON articles BEGIN
    UPDATE article_counts SET articles = articles - 1
    WHERE source = coalesce(old.source, '') AND day = coalesce(date(old.published), '');
    DELETE FROM article_counts WHERE source = coalesce(old.source, '') AND day = coalesce(date(old.published), '')
        AND articles <= 0;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS article_counts_update AFTER UPDATE OF source, published ON articles BEGIN
    UPDATE article_counts SET articles = articles - 1
    WHERE source = coalesce(old.source, '') AND day = coalesce(date(old.published), '');
    DELETE FROM article_counts WHERE source = coalesce(old.source, '') AND day = coalesce(date(old.published), '')
        AND articles <= 0;
    INSERT INTO article_counts (source, day, articles)
    VALUES (coalesce(new.source, ''), coalesce(date(new.published), ''), 1)
    ON CONFLICT (source, day) DO UPDATE SET articles = articles + 1;
END
""",
)


@migrations()
def m080_health_indexes(db: Database) -> None:
    """Indexes the health view (pipelines/archive/health.py) reads, so it costs per source, not per article.

    crawls(source, id, status, stored): a source's latest run and its failed/empty
    streaks from the index alone (hourly runs for years make crawls big too); the
    partial index on warned runs: a source's last warning or error in one seek;
    articles(source, fetched_at): articles stored in the last 24 h / 7 days and the
    daily series. Building the articles index reads the table once (about a minute
    per million articles here).
    """
    for statement in _M080_STATEMENTS:
        db.execute(statement)


@migrations()
def m090_article_counts(db: Database) -> None:
    """Articles per (source, publication day), kept by triggers: the published table's source and
    date facets read these few thousand rows instead of counting a million articles on every view.

    '' stands for no source or no (parsable) date. Filled from the articles in the migration's
    transaction; the triggers keep it exact through every insert, delete (reextract's swap) and
    change of source or date (tests/test_datasette.py checks it against a GROUP BY).
    """
    for statement in _M090_STATEMENTS:
        db.execute(statement)


@migrations()
def m091_story_lookup_index(db: Database) -> None:
    """(id, story_id, published): the search collapses matches by story and sorts them by date from
    this narrow index instead of reading each matching article's row (ten kilobytes of text) for two
    small values; SQLite uses it as a covering index for the rowid lookups."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_id_story ON articles (id, story_id, published)")
    db.execute("PRAGMA analysis_limit = 1000")  # sampled: without statistics the planner reads the table instead
    db.execute("ANALYZE idx_articles_id_story")


@migrations()
def m100_import_runs(db: Database) -> None:
    """`arshif import` runs are `crawls` rows too: `kind` is 'import' (NULL: a crawl) and `import_files`
    (JSON) names each file read, its sha256, size and what was read, kept and skipped."""
    if "kind" not in db["crawls"].columns_dict:
        db["crawls"].add_column("kind", str)
    if "import_files" not in db["crawls"].columns_dict:
        db["crawls"].add_column("import_files", str)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_archive(path: str | Path) -> Database:
    """Open (creating if needed) the archive with WAL and all migrations applied.

    Anything else at `path` (a folder, another file, someone else's SQLite database)
    raises checks.ArchiveError before a byte of it changes.
    """
    path = Path(path)
    check_archive_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.search_forms = {}  # text → FTS form computed by the extraction worker; insert_rows fills it per batch
    register_functions(db.conn, db.search_forms)
    db.conn.create_function("arshif_url_fold_key", 1, fold_key, deterministic=True)  # url_fold_keys' triggers (m120)
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    with db.atomic():  # all pending migrations or none: a kill mid-way never leaves a half-made schema
        migrations.apply(db)
    return db


def start_crawl(db: Database, source: str, **columns) -> int:
    """Insert the run's `crawls` row (with `columns`); earlier rows left `running` were killed."""
    with db.atomic():
        db.execute("UPDATE crawls SET status = 'killed' WHERE status = 'running' AND source = ?", [source])
        table = db["crawls"].insert({"source": source, "started_at": utc_now(), "status": "running", **columns})
    return table.last_pk


def finish_crawl(
    db: Database, crawl_id: int, status: str, counts: dict, stats: dict, faults: dict | None = None, warning: str | None = None,
    error: str | None = None,
) -> None:
    values = {outcome: int(counts.get(outcome, 0)) for outcome in (*OUTCOMES, *RUN_COUNTS)}
    values.update(
        faults=json.dumps(faults or {}, sort_keys=True),
        warning=warning,
        error=error,
        finished_at=utc_now(),
        status=status,
        pages_fetched=int(counts.get("pages_fetched", 0)),
        stats=json.dumps(stats, default=str, ensure_ascii=False, sort_keys=True),
    )
    with db.atomic():
        db["crawls"].update(crawl_id, values)


FORCED = ("stopped by a second SIGTERM/SIGINT (Scrapy's forced shutdown): pages of its last open batch "
          "were not written and are fetched again by the next run")


def committed_counts(db: Database, crawl_id: int) -> tuple[int, int]:
    """The articles and duplicates rows a run committed: what a failed run's counts must say (the
    pages counted into a batch that was never written are not in the archive)."""
    return (db.execute("SELECT COUNT(*) FROM articles WHERE crawl_id = ?", [crawl_id]).fetchone()[0],
            db.execute("SELECT COUNT(*) FROM duplicates WHERE crawl_id = ?", [crawl_id]).fetchone()[0])


def close_abandoned(db: Database, crawl_id: int, error: str = FORCED) -> bool:
    """Mark a run the crawl left `running` (the reactor stopped before its pipelines closed) `killed`, with why.

    Its counts of stored articles and duplicates are those committed (the open batch never was).
    True when the row was still running.
    """
    with db.atomic():
        cursor = db.execute(
            "UPDATE crawls SET status = 'killed', finished_at = ?, error = ?, "
            "stored = (SELECT COUNT(*) FROM articles WHERE crawl_id = ?), "
            "duplicate = (SELECT COUNT(*) FROM duplicates WHERE crawl_id = ?) "
            "WHERE id = ? AND status = 'running'", [utc_now(), error, crawl_id, crawl_id, crawl_id])
    return cursor.rowcount > 0


def known_keys(db: Database) -> tuple[dict[str, int], dict[str, int]]:
    """What dedup needs from the archive: canonical URLs and content hashes → article id.

    Duplicate rows' URLs map to the article they duplicate, so a re-run does
    not record the same copy twice.
    """
    urls: dict[str, int] = {}
    hashes: dict[str, int] = {}
    for row in db.execute("SELECT id, url, canonical_url, content_hash FROM articles"):
        article_id, url, canonical, digest = row
        urls[url] = article_id
        if canonical:
            urls[canonical] = article_id
        if digest:
            hashes.setdefault(digest, article_id)
    for url, canonical, article_id in db.execute("SELECT url, canonical_url, duplicate_of FROM duplicates"):
        urls[url] = article_id
        if canonical:
            urls.setdefault(canonical, article_id)
    return urls, hashes


def _article_row(row: dict) -> dict:
    values = {k: row.get(k) for k in ("id", *ARTICLE_COLUMNS)}
    if values["story_id"] is None:
        values["story_id"] = values["id"]  # a story of its own
    return values


def insert_rows(
    db: Database,
    articles: list[dict],
    duplicates: list[dict],
    replacements: list[dict] = (),
    pages: list[dict] = (),
    edits: list[dict] = (),
) -> None:
    """Write one batch in one transaction; a URL already present is left alone.

    `replacements` overwrite the article with the same id (a better-placed copy of
    the same text or page found later in the same run, pipelines/dedup.py). An
    article row's ``story_merges`` (story ids its arrival joined to its own) are
    applied after the batch's rows are in, in the order the articles came.
    `edits` are new texts of archived articles (rows with the article's `id`):
    the article's current text is kept as a `versions` row, then replaced.
    """
    forms = getattr(db, "search_forms", None)
    if forms is not None:
        _precomputed_search_forms(forms, (*articles, *replacements, *edits))
    try:
        _insert_rows(db, articles, duplicates, replacements, pages, edits)
    finally:
        if forms:
            forms.clear()


def _precomputed_search_forms(forms: dict[str, str], rows) -> None:
    """Hand the FTS trigger the search forms the worker computed (pipelines/records.fingerprints)."""
    for row in rows:
        computed = row.get("fingerprints")
        if computed:
            for field in ("title", "text"):
                if row.get(field):
                    forms[row[field]] = computed[f"search_{field}"]


def _insert_rows(db: Database, articles, duplicates, replacements, pages, edits=()) -> None:
    with db.atomic():
        for row in edits:
            _edit(db, row)
        if articles:
            db["articles"].insert_all((_article_row(row) for row in articles), ignore=True)
        if replacements:
            db["articles"].upsert_all((_article_row(row) for row in replacements), pk="id")
        merges = [(row["story_id"], old) for row in articles for old in row.get("story_merges") or ()]
        if merges:
            db.conn.executemany("UPDATE articles SET story_id = ? WHERE story_id = ?", merges)
        if duplicates:
            db["duplicates"].insert_all(duplicates, ignore=True)
        if pages:
            upsert_pages(db, pages)


def upsert_pages(db: Database, pages) -> None:
    """Insert or update `pages` rows, each writing only the columns it carries.

    sqlite-utils' upsert_all takes its columns from the batch and writes NULL where a row
    lacks one: an outcome that arrives in a later batch than its page row ({url, outcome})
    blanked role, status, ETag, WARC reference... So rows are written in groups of one shape.
    """
    shapes: dict[tuple[str, ...], list[dict]] = {}
    for row in pages:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for rows in shapes.values():
        db["pages"].upsert_all(rows, pk="url")


def _edit(db: Database, row: dict) -> None:
    """Keep the article's current text as a version, then show the new one (same id, same story). A text
    fetched before the article's (`arshif merge` meeting a shard's older copy) is itself the version, placed
    before the text that followed it; the article row is left as it is."""
    columns = ", ".join(VERSIONED_COLUMNS)
    current = db.execute("SELECT fetched_at FROM articles WHERE id = ?", [row["id"]]).fetchone()
    if current and current[0] and row.get("fetched_at") and row["fetched_at"] < current[0]:
        following = db.execute("SELECT MIN(fetched_at) FROM versions WHERE article_id = ? AND fetched_at > ?",
                               [row["id"], row["fetched_at"]]).fetchone()[0]
        db.execute(f"INSERT INTO versions (article_id, {columns}, superseded_at) VALUES (?, {', '.join('?' * len(VERSIONED_COLUMNS))}, ?)",
                   [row["id"], *(row.get(c) for c in VERSIONED_COLUMNS), min(filter(None, (following, current[0])))])
        return
    db.execute(
        f"INSERT INTO versions (article_id, {columns}, superseded_at) SELECT id, {columns}, ? FROM articles WHERE id = ?",
        [utc_now(), row["id"]],
    )
    db.execute(
        f"UPDATE articles SET {', '.join(f'{c} = ?' for c in VERSIONED_COLUMNS)} WHERE id = ?",
        [row.get(c) for c in VERSIONED_COLUMNS] + [row["id"]],
    )


def take_place(batch, row: dict, replaces: dict, crawl_id: int | None = None) -> None:
    """Within one run, a better-placed copy of the same text (or page) takes the id of the article kept
    so far; that one becomes a duplicate (pipelines/dedup.py decides; never for a near copy).

    ``batch`` is a writer with pending ``articles``, ``replacements`` and ``duplicates``
    lists, ``db`` and ``flush()`` (StoragePipeline, `arshif merge`). The displaced
    copy is the pending row with that id, or the archived one after a flush. Its
    duplicates row keeps its URL, title and WARC record; ``crawl_id`` None keeps its own.
    """
    displaced = next((a for a in batch.articles if a["id"] == row["id"]), None)
    if displaced is None:
        batch.flush()
        displaced = batch.db["articles"].get(row["id"])
        batch.replacements.append(row)
    else:  # in its place: the story merges its arrival made keep their order
        row["story_merges"] = displaced.get("story_merges")
        batch.articles = [row if a["id"] == row["id"] else a for a in batch.articles]
    keys = ("url", "canonical_url", "source", "title", "fetched_at", "warc_file", "warc_offset", "warc_length", "crawl_id")
    batch.duplicates.append({
        **{key: displaced.get(key) for key in keys},
        **({"crawl_id": crawl_id} if crawl_id is not None else {}),
        "duplicate_of": row["id"], "similarity": replaces["similarity"], "kind": replaces["kind"],
    })


def known_pages(db: Database, source: str | None = None) -> dict[str, dict]:
    """Pages fetched before: what conditional requests and skipping need.

    `complete` is true when the run that fetched the page finished without reaching
    its page limit: only then were all the links on it followed, so only then may a
    304 end there.
    """
    where, params = ("WHERE p.source = ?", [source]) if source else ("", [])
    return {
        row["url"]: row
        for row in db.query(
            "SELECT p.url, p.role, p.status, p.etag, p.last_modified, p.digest, p.warc_date, p.outcome,"
            " c.source_digest, c.extraction_version,"
            " c.status = 'finished' AND NOT COALESCE(c.limit_reached, 0) AS complete"
            f" FROM pages p LEFT JOIN crawls c ON c.id = p.crawl_id {where}",
            params,
        )
    }


def next_article_id(db: Database) -> int:
    row = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM articles").fetchone()
    return row[0]


_M070_STATEMENTS = (
    "CREATE INDEX IF NOT EXISTS idx_duplicates_canonical_url ON duplicates (canonical_url)",
    ("CREATE INDEX IF NOT EXISTS idx_pages_retryable ON pages (outcome, crawl_id)"
     " WHERE outcome IN ('extraction_failed', 'not_article', 'too_old')"),
    "CREATE INDEX IF NOT EXISTS idx_crawls_running ON crawls (source) WHERE status = 'running'",
)


@migrations()
def m070_lookup_indexes(db: Database) -> None:
    """Indexes for the crawl's per-URL look-ups, so that a run reads what it meets, not the whole archive.

    duplicates(canonical_url): DedupPipeline's URL-key look-up (articles' url and
    canonical_url were indexed from the start); the partial index on the pages
    whose outcome a fix may change: IncrementalMiddleware's count of retry
    candidates; the runs still `running` (start_crawl marks a source's as killed: the
    crawls table gains a row per source per run, 1.7 M a year for 200 sources hourly).
    Time to build them on a big archive: bench/archive_size/README.md.
    """
    for statement in _M070_STATEMENTS:
        db.execute(statement)


@migrations()
def m140_story_members_index(db: Database) -> None:
    """Articles that joined a story other than their own (story_id != id: a story's smallest id is its own
    id, so only the other versions of a story of two or more are in it). The largest stories are found
    from this index alone instead of grouping every article by story: at a million articles, all but a
    few of them stories of one, the grouping took the SQL time limit."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_story_members ON articles (story_id) WHERE story_id != id")



_M141_STATEMENTS = (
    "CREATE INDEX IF NOT EXISTS idx_duplicates_kind ON duplicates (kind)",
    "CREATE INDEX IF NOT EXISTS idx_duplicates_fetched_date ON duplicates (date(fetched_at))",
)


@migrations()
def m141_duplicate_facet_indexes(db: Database) -> None:
    """The published duplicates table's kind and day facets count from these indexes instead of reading
    every duplicate row (a tenth of the articles' count: 100,000 rows at a million articles, where the
    day facet passed datasette's facet time limit and the kind facet took most of it)."""
    for statement in _M141_STATEMENTS:
        db.execute(statement)


_M120_TRIGGERS = (
    """
CREATE TRIGGER IF NOT EXISTS url_fold_keys_article_insert AFTER INSERT ON articles BEGIN
    INSERT OR IGNORE INTO url_fold_keys (key, kind, row_id)
    SELECT key, 0, new.id FROM (SELECT arshif_url_fold_key(new.url) AS key
                                UNION SELECT arshif_url_fold_key(new.canonical_url)) WHERE key IS NOT NULL;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS url_fold_keys_article_update AFTER UPDATE OF url, canonical_url ON articles BEGIN
    INSERT OR IGNORE INTO url_fold_keys (key, kind, row_id)
    SELECT key, 0, new.id FROM (SELECT arshif_url_fold_key(new.url) AS key
                                UNION SELECT arshif_url_fold_key(new.canonical_url)) WHERE key IS NOT NULL;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS url_fold_keys_duplicate_insert AFTER INSERT ON duplicates
WHEN arshif_url_fold_key(new.canonical_url) IS NOT NULL BEGIN
    INSERT OR IGNORE INTO url_fold_keys (key, kind, row_id) VALUES (arshif_url_fold_key(new.canonical_url), 1, new.id);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS url_fold_keys_duplicate_update AFTER UPDATE OF canonical_url ON duplicates
WHEN arshif_url_fold_key(new.canonical_url) IS NOT NULL BEGIN
    INSERT OR IGNORE INTO url_fold_keys (key, kind, row_id) VALUES (arshif_url_fold_key(new.canonical_url), 1, new.id);
END
""",
)


@migrations()
def m120_url_fold_keys(db: Database) -> None:
    """URL keys folded with every url_fold (www, mobile, amp), for the archived URLs folding changes, so
    that a source with `url_fold` looks its keys up in an index instead of reading every archived URL at start.

    `kind` 0: an article's url or canonical_url (`row_id` = articles.id); 1: a duplicates row's
    canonical_url (`row_id` = duplicates.id). Kept by triggers on insert and on a change of URL;
    rows left by a delete or a change are harmless: ArchivedKeys checks each candidate against the
    row as it is now (a hint index, complete for the rows that exist). URLs that fold to themselves
    (most, on sites without www./m./amp variants) have no row: the url and canonical_url indexes
    find them. Filled here from the url and canonical_url indexes (the texts are not read), one fold_key per URL.
    """
    db.execute("CREATE TABLE IF NOT EXISTS url_fold_keys (key TEXT NOT NULL, kind INTEGER NOT NULL,"
               " row_id INTEGER NOT NULL, PRIMARY KEY (key, kind, row_id)) WITHOUT ROWID")
    for statement in _M120_TRIGGERS:
        db.execute(statement)

    def keys():
        # each column from its own index (m001, m070): the rows' texts are not read
        for kind, sql in ((0, "SELECT id, url FROM articles INDEXED BY idx_articles_url"),
                          (0, "SELECT id, canonical_url FROM articles INDEXED BY idx_articles_canonical_url"),
                          (1, "SELECT id, canonical_url FROM duplicates INDEXED BY idx_duplicates_canonical_url")):
            for row_id, url in db.conn.execute(sql):
                key = fold_key(url)
                if key is not None:
                    yield key, kind, row_id

    db.conn.executemany("INSERT OR IGNORE INTO url_fold_keys (key, kind, row_id) VALUES (?, ?, ?)", keys())


@migrations()
def m180_story_original_in_utc(db: Database) -> None:
    """A story's original is its earliest member in UTC: the view compared `published` as text, which put
    a page published at 23:00-05:00 before one at 01:00+03:00 the next day (04:00 UTC against 22:00 UTC).
    Ties of publication and fetch time go to the smaller URL (they went to the smaller id: arrival order)."""
    db.execute("DROP VIEW IF EXISTS stories")
    db.execute(f"CREATE VIEW stories AS {_STORIES_VIEW}")
