"""Health of every source at a glance: last run, recent articles against the usual rate, failing streaks, warnings.

Read-only and plain sqlite3, shared by `arshif status` and the datasette page
`/-/health`. Every query is an indexed lookup per source (m080's indexes on
``crawls (source, id, status, stored)``, the warned runs, and
``articles (source, fetched_at)``), so the cost follows the number of sources and
recent articles, not the size of the archive. An archive not yet migrated to
m080 is still read, only more slowly.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

SERIES_DAYS = 35  # the per-source daily chart: five weeks ending today
USUAL_DAYS = 28  # the usual rate: median articles per day over the 28 days before today
USUAL_MIN_DAYS = 7  # fewer days of history than this: no usual rate yet
LOW_SHARE = 0.5  # the last 24 h below half the usual daily rate: "low"
LOW_MIN_USUAL = 2  # ... when the usual rate is at least this many a day
DEFAULT_STALE_HOURS = 48
SCAN_RUNS = 200  # runs read back per source for the failed/empty streaks ("200+" beyond)
FAILED = ("failed", "killed")
IMPORT_KIND = "import"  # crawls.kind of a WARC import (issue 23), when the column exists

# The order a page or a table lists states in: what needs a look first.
STATES = ("failing", "stale", "low", "running", "ok", "untracked", "never")


class HealthError(Exception):
    """The file cannot be read as an Arshif archive (named, with the reason)."""


class ArchiveMissing(HealthError):
    """Nothing at the path given."""


@dataclass
class SourceHealth:
    source: str
    seeded: bool  # has a file in seeds/
    tracked: bool = False  # expected to stay fresh: seeded and crawled here (WARC imports alone are not)
    state: str = "never"
    stale: bool = False
    last_run: dict | None = None  # id, started_at, finished_at, status, limit_reached, stored, pages_fetched, kind
    last_success_at: str | None = None  # finished_at of the latest run that finished
    last_article_at: str | None = None  # fetched_at of the latest article stored
    stored_24h: int = 0
    stored_7d: int = 0
    usual_per_day: float | None = None  # median articles per day over the previous USUAL_DAYS days
    failed_runs: int = 0  # latest runs in a row that ended failed or killed
    empty_runs: int = 0  # latest runs in a row that stored no article (any status)
    runs_capped: bool = False  # a streak reached SCAN_RUNS: at least that many
    last_warning: dict | None = None  # crawl_id, at, text: the latest run with a warning or an error
    last_faults: dict = field(default_factory=dict)  # the last run's fault counts (http_503, timeout, robots.txt, ...)
    daily: list = field(default_factory=list)  # [day, articles] for the SERIES_DAYS days ending today

    def as_dict(self) -> dict:
        return asdict(self)


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """Open an archive for reading only: no migration, no lock, no write to the file.

    Without a -wal file the archive is read as immutable, which creates no -wal or
    -shm beside it; with one (a crawl runs or ran), read-only WAL mode, which sees the
    running crawl's committed rows. Anything that is not an Arshif archive raises
    HealthError before a query runs.
    """
    path = Path(path)
    if not path.exists():
        raise ArchiveMissing(f"no archive at {path}; run `arshif demo` or `arshif crawl SOURCE` first")
    if not path.is_file():
        raise HealthError(f"{path} is not a file")
    real = path.resolve()
    try:
        with open(real, "rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        raise HealthError(f"{path} cannot be read: {exc.strerror}") from None
    if header != b"SQLite format 3\x00":
        raise HealthError(f"{path} is not an SQLite database (an Arshif archive is one)")
    mode = "mode=ro" if real.with_name(real.name + "-wal").exists() else "immutable=1"
    try:
        connection = sqlite3.connect(f"{real.as_uri()}?{mode}", uri=True, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout = 5000")
        connection.execute("PRAGMA query_only = 1")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    except sqlite3.DatabaseError as exc:
        raise HealthError(f"{path} is not a readable SQLite database ({exc})") from None
    if not {"articles", "crawls"} <= tables:
        connection.close()
        raise HealthError(f"{path} is an SQLite database but not an Arshif archive (no articles and crawls tables)")
    return connection


def _columns(connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def _distinct_sources(connection, table: str) -> list[str]:
    """Every distinct `source` of a table by a skip scan of its source index (one seek per source)."""
    sql = f"""
    WITH RECURSIVE s(source) AS (
        SELECT MIN(source) FROM {table}
        UNION ALL
        SELECT (SELECT MIN(source) FROM {table} WHERE source > s.source) FROM s WHERE s.source IS NOT NULL
    ) SELECT source FROM s WHERE source IS NOT NULL"""
    return [row[0] for row in connection.execute(sql)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _median_usual(daily: dict[str, int], today: date, first_day: date | None) -> float | None:
    if first_day is None:
        return None  # no run and no recent article: no rate to speak of
    days = [day for day in (today - timedelta(days=n) for n in range(1, USUAL_DAYS + 1)) if day >= first_day]
    if len(days) < USUAL_MIN_DAYS:
        return None
    return float(statistics.median(daily.get(day.isoformat(), 0) for day in days))


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _age_hours(text: str | None, now: datetime) -> float | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (now - moment).total_seconds() / 3600


class HealthReader:
    """The queries, built once per connection from the columns the archive has."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection
        crawls = _columns(connection, "crawls")
        self.has_kind = "kind" in crawls
        self.has_import_files = "import_files" in crawls
        self.run_columns = [c for c in ("id", "source", "started_at", "finished_at", "status", "limit_reached", "stored",
                                        "pages_fetched", "http_error", "error", "warning", "faults", "kind") if c in crawls]
        self.has_stats = "stats" in crawls
        self.warned = [c for c in ("warning", "error") if c in crawls]

    def runs(self, source: str):
        """(id, status, stored[, kind]) of the source's runs, latest first (a covering index scan)."""
        kind = ", kind" if self.has_kind else ""
        return self.connection.execute(
            f"SELECT id, status, stored{kind} FROM crawls WHERE source = ? ORDER BY id DESC LIMIT {SCAN_RUNS}", [source]
        )

    def import_of_last_article(self, source: str) -> int | None:
        """The import that brought the source's latest article (a host known only from WARC imports)."""
        if not self.has_kind:
            return None
        row = self.connection.execute(
            f"SELECT c.id FROM articles a JOIN crawls c ON c.id = a.crawl_id WHERE a.source = ? AND c.kind = '{IMPORT_KIND}'"
            " ORDER BY a.fetched_at DESC LIMIT 1", [source]).fetchone()
        return row[0] if row else None

    def latest_rerun(self, crawl_id: int) -> int:
        """The latest import that read a file the import `crawl_id` read (by sha256), finished or not: after an
        import that failed, the same command again is its last run, even when it had nothing left to add.
        A walk of the (source, id) index over the imports after `crawl_id` only."""
        if not self.has_import_files:
            return crawl_id
        source, files = self.connection.execute("SELECT source, import_files FROM crawls WHERE id = ?", [crawl_id]).fetchone()
        try:
            digests = [entry["sha256"] for entry in json.loads(files or "[]") if entry.get("sha256")]
        except (ValueError, TypeError, AttributeError):
            return crawl_id
        latest = crawl_id
        for digest in digests:
            row = self.connection.execute(
                f"SELECT MAX(id) FROM crawls WHERE source = ? AND id > ? AND kind = '{IMPORT_KIND}' AND instr(import_files, ?)",
                [source, crawl_id, f'"{digest}"']).fetchone()
            latest = max(latest, row[0] or 0)
        return latest

    def last_finished(self, source: str) -> int | None:
        not_import = f" AND COALESCE(kind, '') != '{IMPORT_KIND}'" if self.has_kind else ""
        row = self.connection.execute(
            f"SELECT id FROM crawls WHERE source = ? AND status = 'finished'{not_import} ORDER BY id DESC LIMIT 1",
            [source]).fetchone()
        return row[0] if row else None

    def run(self, crawl_id: int) -> dict:
        cursor = self.connection.execute(f"SELECT {', '.join(self.run_columns)} FROM crawls WHERE id = ?", [crawl_id])
        return dict(zip(self.run_columns, cursor.fetchone(), strict=True))

    def robots_refused(self, crawl_id: int) -> int:
        if not self.has_stats:
            return 0
        row = self.connection.execute(
            """SELECT json_extract(stats, '$."robotstxt/forbidden"') FROM crawls WHERE id = ? AND json_valid(stats)""",
            [crawl_id]).fetchone()
        return int(row[0] or 0) if row else 0

    def last_warning(self, source: str) -> dict | None:
        if not self.warned:
            return None
        # the same expression as m080's partial index, so the planner can use it
        condition = " OR ".join(f"{c} IS NOT NULL" for c in self.warned)
        row = self.connection.execute(
            f"SELECT id, started_at, {', '.join(self.warned)} FROM crawls WHERE source = ? AND ({condition})"
            " ORDER BY id DESC LIMIT 1", [source]).fetchone()
        if row is None:
            return None
        texts = {name: value for name, value in zip(self.warned, row[2:], strict=True) if value}
        return {"crawl_id": row[0], "at": row[1], "kind": "error" if "error" in texts else "warning",
                "text": texts.get("error") or texts.get("warning")}

    def first_run_day(self, source: str) -> date | None:
        row = self.connection.execute("SELECT started_at FROM crawls WHERE source = ? ORDER BY id LIMIT 1", [source]).fetchone()
        return _parse_day(row[0]) if row else None

    def count_since(self, source: str, since: str) -> int:
        return self.connection.execute(
            "SELECT COUNT(*) FROM articles WHERE source = ? AND fetched_at >= ?", [source, since]).fetchone()[0]

    def daily(self, source: str, since: str) -> dict[str, int]:
        return dict(self.connection.execute(
            "SELECT substr(fetched_at, 1, 10) AS day, COUNT(*) FROM articles WHERE source = ? AND fetched_at >= ?"
            " GROUP BY day", [source, since]))

    def last_article_at(self, source: str) -> str | None:
        return self.connection.execute("SELECT MAX(fetched_at) FROM articles WHERE source = ?", [source]).fetchone()[0]


def _faults(run: dict, robots: int) -> dict:
    try:
        faults = json.loads(run.get("faults") or "{}")
    except ValueError:
        faults = {}
    if not isinstance(faults, dict):
        faults = {}
    faults = {str(k): int(v) for k, v in faults.items() if isinstance(v, (int, float)) and v}
    if robots:
        faults["robots.txt"] = robots
    return dict(sorted(faults.items(), key=lambda item: (-item[1], item[0])))


def source_health(reader: HealthReader, source: str, seeded: bool, now: datetime,
                  stale_hours: float = DEFAULT_STALE_HOURS, expected: bool = False) -> SourceHealth:
    """One source's row. `expected`: named by the operator, so checked for staleness even if never crawled."""
    health = SourceHealth(source=source, seeded=seeded)
    today = now.astimezone(timezone.utc).date()
    latest_id = latest_import_id = None
    crawl_runs = 0
    failed_open = empty_open = True
    last_success_id = None
    ended_runs = 0
    for row in reader.runs(source):
        run_id, status, stored = row[0], row[1], row[2]
        if reader.has_kind and row[3] == IMPORT_KIND:
            latest_import_id = latest_import_id or run_id
            continue  # an import is not a run of the source's crawl
        crawl_runs += 1
        if latest_id is None:
            latest_id = run_id
        if status == "running":
            continue  # in progress (or killed and not yet marked): counts neither way
        ended_runs += 1
        if failed_open:
            if status in FAILED:
                health.failed_runs += 1
            else:
                failed_open = False
        if empty_open:
            if not stored:
                health.empty_runs += 1
            else:
                empty_open = False
        if last_success_id is None and status == "finished":
            last_success_id = run_id
        if not failed_open and not empty_open and last_success_id is not None:
            break
    health.runs_capped = max(health.failed_runs, health.empty_runs) >= SCAN_RUNS
    if last_success_id is None and crawl_runs >= SCAN_RUNS:  # further back than the scan: one more index walk
        last_success_id = reader.last_finished(source)
    if latest_id is None:  # never crawled here: its latest import is its last run (kind import)
        latest_id = latest_import_id
        if latest_id is None:  # a host (its pages' source): the import its latest article came from, or a later
            latest_id = reader.import_of_last_article(source)  # run of the same file (one that failed, then the rerun)
            if latest_id is not None:
                latest_id = reader.latest_rerun(latest_id)
    if latest_id is not None:
        run = reader.run(latest_id)
        health.last_run = {key: run.get(key) for key in ("id", "started_at", "finished_at", "status", "limit_reached",
                                                          "stored", "pages_fetched", "http_error", "kind")}
        health.last_faults = _faults(run, reader.robots_refused(latest_id))
    if last_success_id is not None:
        success = reader.run(last_success_id)
        health.last_success_at = success.get("finished_at") or success.get("started_at")
    health.last_warning = reader.last_warning(source)

    series_start = today - timedelta(days=SERIES_DAYS - 1)
    daily = reader.daily(source, series_start.isoformat())
    health.daily = [[(series_start + timedelta(days=n)).isoformat(), daily.get((series_start + timedelta(days=n)).isoformat(), 0)]
                    for n in range(SERIES_DAYS)]
    health.stored_24h = reader.count_since(source, _iso(now - timedelta(hours=24)))
    health.stored_7d = reader.count_since(source, _iso(now - timedelta(days=7)))
    health.last_article_at = reader.last_article_at(source)
    first_day = reader.first_run_day(source) if crawl_runs else None
    if first_day is None:
        first_day = min((_parse_day(day) for day, count in daily.items() if count), default=None)
    health.usual_per_day = _median_usual(daily, today, first_day)

    health.tracked = (seeded and crawl_runs > 0) or expected
    run_age = _age_hours(health.last_success_at, now)
    article_age = _age_hours(health.last_article_at, now)
    health.stale = health.tracked and (run_age is None or run_age > stale_hours
                                       or article_age is None or article_age > stale_hours)
    if health.stale and crawl_runs and not ended_runs and health.last_success_at is None and health.last_run:
        # the source's first run is still going: stale only once it has been running for the threshold
        # (a first run killed by SIGKILL stays `running`: it turns stale then)
        started_age = _age_hours(health.last_run["started_at"], now)
        health.stale = started_age is None or started_age > stale_hours
    health.state = _state(health, crawl_runs)
    return health


def _state(health: SourceHealth, crawl_runs: int) -> str:
    if not crawl_runs and not health.last_article_at and not health.tracked and not health.last_run:
        return "never"
    if not health.tracked:
        return "untracked"
    if health.failed_runs:
        return "failing"
    if health.stale:
        return "stale"
    usual = health.usual_per_day
    if usual is not None and usual >= LOW_MIN_USUAL and health.stored_24h < usual * LOW_SHARE:
        return "low"
    if health.last_run and health.last_run["status"] == "running":
        return "running"
    return "ok"


def collect(connection: sqlite3.Connection, seeded: list[str], now: datetime | None = None,
            stale_hours: float = DEFAULT_STALE_HOURS, only: list[str] | None = None) -> list[SourceHealth]:
    """One row per source: the seeded ones and every source the archive's crawls or articles name.

    `only`: just these sources, each expected to stay fresh even if never crawled here.
    Rows come in STATES order (what needs a look first), then by name.
    """
    now = now or datetime.now(timezone.utc)
    reader = HealthReader(connection)
    if only:
        names = list(dict.fromkeys(only))
    else:
        names = sorted(set(seeded) | set(_distinct_sources(connection, "crawls")) | set(_distinct_sources(connection, "articles")))
    seeded_set = set(seeded)
    rows = [source_health(reader, name, name in seeded_set, now, stale_hours, expected=bool(only)) for name in names]
    return sorted(rows, key=lambda row: (STATES.index(row.state), row.source))
