"""Source health: the `/-/health` page through datasette's client and `arshif status` as a subprocess.

The archive is a real crawl of the demo site plus synthetic `crawls` rows and
articles for sources that fail, go quiet, store nothing, warn, or were only imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.archive.database import insert_rows, next_article_id, open_archive
from pipelines.archive.health import SCAN_RUNS, collect, open_readonly
from pipelines.archive.lock import ArchiveLock
from tests.conftest import copy_archive, make_datasette, run_arshif

NOW = datetime.now(timezone.utc)
USUAL = 20  # hespress: articles a day over the previous four weeks


def _at(**delta) -> str:
    return (NOW - timedelta(**delta)).isoformat(timespec="seconds")


def _run(db, source, started, status="finished", stored=0, **columns) -> int:
    row = {"source": source, "started_at": started, "finished_at": started, "status": status, "stored": stored,
           "pages_fetched": 10, "faults": "{}", **columns}
    return db["crawls"].insert(row).last_pk


def _articles(db, source, fetched_at: list[str]) -> None:
    first = next_article_id(db)
    rows = [{"id": first + i, "url": f"https://{source}.example/a/{first + i}", "source": source, "title": "خبر",
             "text": "نص الخبر", "language": "ar", "fetched_at": at} for i, at in enumerate(fetched_at)]
    insert_rows(db, rows, [])


def add_synthetic_sources(path: Path) -> None:
    """aljazeera fails, bbcarabic stores nothing, hespress warns and is low, wire.example was only imported."""
    db = open_archive(path)
    # aljazeera: fine five days ago, then three failed runs (the last one a full disk)
    _run(db, "aljazeera", _at(days=5), stored=4)
    _articles(db, "aljazeera", [_at(days=5)] * 4)
    _run(db, "aljazeera", _at(days=3), status="killed")
    _run(db, "aljazeera", _at(days=2), status="failed")
    _run(db, "aljazeera", _at(hours=1), status="failed", error="WARC: No space left on device [ENOSPC]")
    # bbcarabic: a run stored 2 articles four days ago; five finished runs since stored nothing
    _run(db, "bbcarabic", _at(days=4), stored=2)
    _articles(db, "bbcarabic", [_at(days=4)] * 2)
    for hours in (50, 30, 20, 10, 1):
        _run(db, "bbcarabic", _at(hours=hours))
    # hespress: USUAL a day for four weeks, one article in the last 24 h, a layout warning, 503s, robots.txt refusals
    _run(db, "hespress", _at(days=30), stored=USUAL * 29)
    _articles(db, "hespress", [_at(days=day, hours=1) for day in range(1, 30) for _ in range(USUAL)])
    _articles(db, "hespress", [_at(hours=2)])
    _run(db, "hespress", _at(hours=2), stored=1, faults=json.dumps({"http_503": 12, "timeout": 2}),
         warning="source hespress: 9 of 10 article pages (90%) yielded no article; has the site's layout changed? <b>x</b>",
         stats=json.dumps({"robotstxt/forbidden": 7}))
    # wire.example: articles from a WARC import long ago, no crawl: not expected to stay fresh
    _articles(db, "wire.example", [_at(days=300)] * 3)
    db.close()


@pytest.fixture
def health_db(archive_db) -> Path:
    add_synthetic_sources(archive_db)
    return archive_db


def _by_source(rows) -> dict:
    return {row["source"]: row for row in rows}


async def _health_json(ds, **params) -> dict:
    response = await ds.client.get("/-/health.json", params=params)
    assert response.status_code == 200, response.text[:500]
    return response.json()


async def test_health_rows_through_datasette(health_db, demo_crawl):
    data = await _health_json(make_datasette(health_db))
    rows = _by_source(data["sources"])
    demo_articles = demo_crawl.db["articles"].count
    demo = rows["demo"]
    assert demo["state"] == "ok" and not demo["stale"] and demo["tracked"]
    assert demo["stored_24h"] == demo["stored_7d"] == demo_articles > 0
    assert demo["last_run"]["status"] == "finished" and demo["last_run"]["stored"] == demo_articles
    assert sum(count for _, count in demo["daily"]) == demo_articles and len(demo["daily"]) == 35

    aljazeera = rows["aljazeera"]
    assert aljazeera["state"] == "failing" and aljazeera["stale"]
    assert aljazeera["failed_runs"] == 3 and aljazeera["empty_runs"] == 3
    assert aljazeera["last_warning"]["kind"] == "error" and "No space left" in aljazeera["last_warning"]["text"]
    assert aljazeera["stored_7d"] == 4 and aljazeera["stored_24h"] == 0

    bbc = rows["bbcarabic"]
    assert bbc["state"] == "stale" and bbc["stale"]
    assert bbc["failed_runs"] == 0 and bbc["empty_runs"] == 5 and bbc["last_run"]["status"] == "finished"

    hespress = rows["hespress"]
    assert hespress["state"] == "low" and not hespress["stale"]
    assert hespress["usual_per_day"] == USUAL and hespress["stored_24h"] == 1
    assert hespress["stored_7d"] == 1 + USUAL * 6  # days 1..6 ago, one hour before the day's mark
    assert hespress["last_faults"] == {"http_503": 12, "robots.txt": 7, "timeout": 2}
    assert "layout changed" in hespress["last_warning"]["text"]

    wire = rows["wire.example"]
    assert wire["state"] == "untracked" and not wire["stale"] and not wire["seeded"]
    assert rows["youm7"]["state"] == "never" and not rows["youm7"]["stale"]  # seeded, never crawled here
    assert set(data["stale"]) == {"aljazeera", "bbcarabic"}
    # what needs a look comes first
    states = [row["state"] for row in data["sources"]]
    assert states.index("failing") < states.index("stale") < states.index("low") < states.index("ok")


async def test_health_counts_equal_the_archive(health_db):
    """Every row's 7-day count and daily series against a plain count of the articles table."""
    rows = (await _health_json(make_datasette(health_db)))["sources"]
    week_ago = _at(days=7)
    with sqlite3.connect(health_db) as connection:
        for row in rows:
            expected = connection.execute("select count(*) from articles where source = ? and fetched_at >= ?",
                                          [row["source"], week_ago]).fetchone()[0]
            assert row["stored_7d"] == expected, row["source"]
            by_day = dict(connection.execute(
                "select substr(fetched_at, 1, 10), count(*) from articles where source = ? group by 1", [row["source"]]))
            assert all(count == by_day.get(day, 0) for day, count in row["daily"]), row["source"]


async def test_health_page_html(health_db):
    ds = make_datasette(health_db)
    page = (await ds.client.get("/-/health")).text
    assert 'dir="rtl"' in page and "صحة المصادر" in page and "Source health" in page
    for source, state in (("aljazeera", "failing"), ("bbcarabic", "stale"), ("hespress", "low"), ("demo", "ok")):
        assert f'data-source="{source}" data-state="{state}"' in page, source
    assert 'class="arshif-state-failing arshif-alert"' in page and 'class="arshif-state-stale arshif-alert"' in page
    assert page.count('<svg class="arshif-health-chart"') == page.count("<tr class=") > 20
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page  # warning text escaped
    home = (await ds.client.get("/")).text
    assert 'href="/-/health?database=archive"' in home


async def test_health_page_under_any_database_name(health_db, tmp_path):
    other = copy_archive(health_db, tmp_path / "other.db")
    ds = make_datasette(other)
    data = await _health_json(ds)
    assert data["database"] == "other" and set(data["stale"]) == {"aljazeera", "bbcarabic"}
    assert 'href="/-/health?database=other"' in (await ds.client.get("/")).text
    assert (await ds.client.get("/-/health?database=other&hours=1000")).status_code == 200
    assert (await ds.client.get("/-/health?database=missing")).status_code == 404


async def test_stale_threshold_from_the_page(health_db):
    data = await _health_json(make_datasette(health_db), hours="100")
    # aljazeera's last success and article are 120 h old; bbcarabic's last article 96 h
    assert data["stale_hours"] == 100 and set(data["stale"]) == {"aljazeera"}


def test_streaks_stop_at_the_scan_limit(archive_db):
    """More failed runs than one scan reads: the streak says "at least", and the page stays one query deep."""
    db = open_archive(archive_db)
    db["crawls"].insert_all({"source": "aljazeera", "started_at": _at(minutes=SCAN_RUNS + 50 - i), "status": "failed",
                             "stored": 0} for i in range(SCAN_RUNS + 50))
    db.close()
    connection = open_readonly(archive_db)
    rows = {row.source: row for row in collect(connection, ["aljazeera", "demo"], NOW)}
    connection.close()
    assert rows["aljazeera"].failed_runs == SCAN_RUNS and rows["aljazeera"].runs_capped
    assert rows["aljazeera"].state == "failing" and rows["demo"].state == "ok"
    assert rows["aljazeera"].last_success_at is None


def test_last_success_found_beyond_the_scan(archive_db):
    """Runs every minute: 250 failed ones since the last success, which is still within the threshold."""
    db = open_archive(archive_db)
    _run(db, "aljazeera", _at(hours=5), stored=3)
    _articles(db, "aljazeera", [_at(hours=5)] * 3)
    db["crawls"].insert_all({"source": "aljazeera", "started_at": _at(minutes=250 - i), "status": "failed", "stored": 0}
                            for i in range(250))
    db.close()
    connection = open_readonly(archive_db)
    row = next(row for row in collect(connection, ["aljazeera"], NOW, stale_hours=6) if row.source == "aljazeera")
    connection.close()
    assert row.failed_runs == SCAN_RUNS and row.runs_capped and row.state == "failing"
    assert row.last_success_at == _at(hours=5) and not row.stale


def test_a_first_run_still_going_is_running_not_stale(archive_db):
    """F11: a seeded source's first-ever run, started minutes ago, is `running`; left `running` past the
    threshold (a first run killed by SIGKILL is never marked) it is stale."""
    db = open_archive(archive_db)
    db["crawls"].insert({"source": "aljazeera", "started_at": _at(minutes=5), "status": "running", "stored": 0})
    db["crawls"].insert({"source": "bbcarabic", "started_at": _at(hours=8), "status": "running", "stored": 0})
    db.close()
    connection = open_readonly(archive_db)
    rows = {row.source: row for row in collect(connection, ["aljazeera", "bbcarabic"], NOW, stale_hours=6)}
    connection.close()
    assert not rows["aljazeera"].stale and rows["aljazeera"].state == "running"
    assert rows["bbcarabic"].stale and rows["bbcarabic"].state == "stale"


def test_health_queries_read_indexes_only(health_db):
    """Each query of the health view is an index search: none scans articles or crawls."""
    connection = open_readonly(health_db)
    statements = []
    connection.set_trace_callback(statements.append)
    collect(connection, ["demo", "aljazeera"], NOW)
    connection.set_trace_callback(None)
    plans = {}
    for sql in {s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))}:
        plan = " | ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}"))
        plans[sql] = plan
    connection.close()
    assert plans
    for sql, plan in plans.items():
        assert "SCAN articles" not in plan and "SCAN crawls" not in plan, (sql, plan)
    used = " ".join(plans.values())
    for index in ("idx_crawls_source_runs", "idx_crawls_source_warned", "idx_articles_source_fetched"):
        assert index in used, index


# --- arshif status --------------------------------------------------------------------------------


def _fingerprint(path: Path) -> tuple:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_size


def _side_files(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir() if p.name.startswith(path.name)}


def _checkpointed(path: Path) -> Path:
    """The archive as a finished crawl leaves it: everything in the main file, no -wal or -shm."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def test_status_table_json_and_exit_codes(health_db):
    db = str(_checkpointed(health_db))
    before, files = _fingerprint(health_db), _side_files(health_db)

    shown = run_arshif("status", "--db", db)
    assert shown.returncode == 0, shown.stderr
    lines = {line.split()[0]: line for line in shown.stdout.splitlines()[1:] if line.strip()}
    assert lines["aljazeera"].split()[1] == "failing" and "No space left" in lines["aljazeera"]
    assert lines["bbcarabic"].split()[1] == "stale" and lines["hespress"].split()[1] == "low"
    assert "stale (no article or no finished run for 48 h): aljazeera, bbcarabic" in shown.stdout

    as_json = run_arshif("status", "--db", db, "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    rows = _by_source(data["sources"])
    assert rows["aljazeera"]["failed_runs"] == 3 and rows["bbcarabic"]["empty_runs"] == 5
    assert rows["hespress"]["usual_per_day"] == USUAL and set(data["stale"]) == {"aljazeera", "bbcarabic"}

    stale = run_arshif("status", "--db", db, "--fail-if-stale", "48")
    assert stale.returncode == 1 and "aljazeera, bbcarabic" in stale.stderr and "wire.example" not in stale.stderr
    assert run_arshif("status", "--db", db, "--fail-if-stale", "48", "demo", "hespress").returncode == 0
    named = run_arshif("status", "--db", db, "--fail-if-stale", "48", "youm7")  # named: expected even if never crawled
    assert named.returncode == 1 and "youm7" in named.stderr
    for hours in ("0", "nan", "inf"):  # nan and inf would never report a source stale
        assert run_arshif("status", "--db", db, "--fail-if-stale", hours).returncode == 2, hours
    # nothing written: no migration, no lock file, no -wal/-shm, the same bytes and mtime
    assert _fingerprint(health_db) == before and _side_files(health_db) == files


def test_status_of_a_fresh_demo_crawl_passes(archive_db):
    result = run_arshif("status", "--db", str(archive_db), "--fail-if-stale", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo" in result.stdout and "stale (" not in result.stdout


def test_status_beside_a_running_crawl(health_db):
    """A crawl holds the lock and an open write transaction: status reads the committed rows and exits 0."""
    lock = ArchiveLock(health_db).acquire()
    writer = sqlite3.connect(health_db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO crawls (source, started_at, status) VALUES ('hespress', ?, 'running')", [_at()])
        main_file = _fingerprint(health_db)
        result = run_arshif("status", "--db", str(health_db), "--json")
        assert result.returncode == 0, result.stderr
        rows = _by_source(json.loads(result.stdout)["sources"])
        assert rows["hespress"]["last_run"]["status"] == "finished"  # the uncommitted run is not seen
        assert _fingerprint(health_db) == main_file
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        lock.release()


@pytest.mark.parametrize("content", [b"", b"not a database\n", b"sqlite"])
def test_status_refuses_a_file_that_is_not_an_archive(tmp_path, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    result = run_arshif("status", "--db", str(path))
    assert result.returncode == 4 and "arshif status:" in result.stderr and "Traceback" not in result.stderr
    assert path.read_bytes() == content and path.stat().st_mtime_ns == 1_000_000_000
    assert _side_files(path) == {"notes.db"}


def test_status_refuses_another_sqlite_database_and_a_missing_file(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("create table notes (x)")
    before = _fingerprint(other)
    result = run_arshif("status", "--db", str(other))
    assert result.returncode == 4 and "not an Arshif archive" in result.stderr
    assert _fingerprint(other) == before and _side_files(other) == {"other.db"}

    missing = tmp_path / "missing.db"
    result = run_arshif("status", "--db", str(missing))
    assert result.returncode == 2 and "no archive at" in result.stderr
    assert not missing.exists() and not list(tmp_path.glob("missing.db*"))


def test_status_of_a_damaged_archive_says_so(health_db, tmp_path):
    """An archive cut short (a copy that stopped half-way): a message and a non-zero exit, never a traceback."""
    damaged = tmp_path / "damaged.db"
    data = _checkpointed(health_db).read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    before = _fingerprint(damaged)
    result = run_arshif("status", "--db", str(damaged))
    assert result.returncode in (4, 5), result.stdout + result.stderr
    assert "arshif status:" in result.stderr and "Traceback" not in result.stderr
    assert _fingerprint(damaged) == before


def test_status_never_migrates_an_older_archive(health_db):
    """An archive from before m080 (its indexes and its migration row gone): read as it is, left as it was."""
    connection = sqlite3.connect(health_db)
    for index in ("idx_crawls_source_runs", "idx_crawls_source_warned", "idx_articles_source_fetched"):
        connection.execute(f"DROP INDEX {index}")
    connection.execute("DELETE FROM _sqlite_migrations WHERE name = 'm080_health_indexes'")
    connection.commit()
    connection.close()
    before, files = _fingerprint(_checkpointed(health_db)), _side_files(health_db)
    result = run_arshif("status", "--db", str(health_db), "--json")
    assert result.returncode == 0, result.stderr
    rows = _by_source(json.loads(result.stdout)["sources"])
    assert rows["aljazeera"]["failed_runs"] == 3 and rows["hespress"]["usual_per_day"] == USUAL
    assert _fingerprint(health_db) == before and _side_files(health_db) == files


def test_warc_imports_are_not_runs_of_a_source(health_db):
    """With crawls.kind (WARC imports, issue 23): an import neither is a crawled source's last run nor keeps it fresh;
    a source only imported shows its import."""
    db = open_archive(health_db)
    if "kind" not in db["crawls"].columns_dict:  # m100 (arshif import) adds it
        db["crawls"].add_column("kind", str)
    _run(db, "aljazeera", _at(minutes=5), stored=50, kind="import")  # after its failed runs
    _run(db, "alarabiya", _at(minutes=5), stored=80, kind="import")  # seeded, never crawled: imported only
    _articles(db, "alarabiya", [_at(minutes=5)] * 80)
    db.close()
    connection = open_readonly(health_db)
    rows = {row.source: row for row in collect(connection, ["aljazeera", "alarabiya", "demo"], NOW)}
    connection.close()
    assert rows["aljazeera"].state == "failing" and rows["aljazeera"].failed_runs == 3
    assert rows["aljazeera"].last_run["status"] == "failed"
    assert rows["alarabiya"].state == "untracked" and not rows["alarabiya"].stale
    # its last run shown is the import (kind import): status covers imports without counting them as crawls
    assert rows["alarabiya"].stored_24h == 80 and rows["alarabiya"].last_run["kind"] == "import"
    assert rows["aljazeera"].last_run["kind"] != "import"


def _import_run(db, started, status, digests, stored=0) -> int:
    """An `arshif import` row as the import spider writes it: source `import`, kind import, its files by sha256."""
    files = [{"name": f"{digest[:6]}.warc.gz", "sha256": digest, "size": 1, "path": f"/data/{digest[:6]}.warc.gz",
              "copied": True, "counts": {}} for digest in digests]
    return _run(db, "import", started, status=status, stored=stored, kind="import", import_files=json.dumps(files))


def _imported_articles(db, source, crawl_id, fetched_at: list[str]) -> None:
    first = next_article_id(db)
    insert_rows(db, [{"id": first + i, "url": f"https://{source}/a/{first + i}", "source": source, "title": "خبر",
                      "text": "نص الخبر", "language": "ar", "fetched_at": at, "crawl_id": crawl_id}
                     for i, at in enumerate(fetched_at)], [])


def _with_import_columns(path) -> None:
    db = open_archive(path)
    for column in ("kind", "import_files"):  # m100 (arshif import) adds them
        if column not in db["crawls"].columns_dict:
            db["crawls"].add_column(column, str)
    db.close()


def test_a_failed_import_then_its_clean_rerun_shows_the_rerun_as_the_hosts_last_run(health_db):
    """A host known only from imports: its last run is the latest run of the file its latest article came
    from, finished or not. The import that brought its articles failed after writing them; the same command
    again added nothing and finished: the host's row shows that rerun (it stayed `failed (import)` before).
    A later import of another file, with nothing of this host, is not the host's run."""
    _with_import_columns(health_db)
    file_a, file_b = hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest()
    db = open_archive(health_db)
    failed_import = _import_run(db, _at(hours=3), "failed", [file_b, file_a], stored=4)
    _imported_articles(db, "wire2.example", failed_import, [_at(days=2)] * 4)
    rerun = _import_run(db, _at(hours=2), "finished", [file_a, file_b])  # the same two files, listed in another order
    other = _import_run(db, _at(hours=1), "finished", [hashlib.sha256(b"c").hexdigest()], stored=3)
    _imported_articles(db, "wire3.example", other, [_at(days=1)] * 3)
    db.close()
    connection = open_readonly(health_db)
    rows = {row.source: row for row in collect(connection, ["demo"], NOW)}
    connection.close()
    assert (rows["wire2.example"].last_run["id"], rows["wire2.example"].last_run["status"]) == (rerun, "finished")
    assert rows["wire2.example"].last_run["kind"] == "import" and rows["wire2.example"].state == "untracked"
    assert rows["wire3.example"].last_run["id"] == other and rows["import"].last_run["id"] == other
    shown = run_arshif("status", "--db", str(health_db)).stdout
    assert "finished (import)" in next(line for line in shown.splitlines() if line.startswith("wire2.example"))

    # the rerun killed in its turn: that is the last run now (the latest run of the file, whatever its end)
    db = open_archive(health_db)
    killed = _import_run(db, _at(minutes=30), "killed", [file_a])
    db.close()
    connection = open_readonly(health_db)
    rows = {row.source: row for row in collect(connection, ["demo"], NOW)}
    connection.close()
    assert (rows["wire2.example"].last_run["id"], rows["wire2.example"].last_run["status"]) == (killed, "killed")


def test_fail_if_stale_refuses_a_source_known_only_from_imports(health_db):
    """Freshness counts crawl runs: named to --fail-if-stale, an import-only source was reported stale on every
    run, whatever its imports brought. It is refused by name (exit 2); without --fail-if-stale its row is shown;
    a seeded source that was only imported so far is still expected to be crawled (stale: exit 1)."""
    _with_import_columns(health_db)
    db = open_archive(health_db)
    brought = _import_run(db, _at(hours=2), "finished", [hashlib.sha256(b"a").hexdigest()], stored=5)
    _imported_articles(db, "wire2.example", brought, [_at(hours=3)] * 5)
    _imported_articles(db, "alarabiya", brought, [_at(hours=3)] * 2)  # seeds/alarabiya.toml: a seeded source
    db.close()
    db_path = str(health_db)
    for named in (["wire2.example"], ["import"], ["demo", "wire2.example"]):
        refused = run_arshif("status", "--db", db_path, "--fail-if-stale", "48", *named)
        assert refused.returncode == 2, (named, refused.stderr)
        assert "known only from WARC imports" in refused.stderr and refused.stdout == "", refused.stderr
        assert "demo" not in refused.stderr.split("watch ")[1].split(":")[0]  # only the import-only ones are named
    shown = run_arshif("status", "--db", db_path, "wire2.example")
    assert shown.returncode == 0 and "wire2.example" in shown.stdout
    seeded = run_arshif("status", "--db", db_path, "--fail-if-stale", "48", "alarabiya")
    assert seeded.returncode == 1 and "alarabiya" in seeded.stderr, seeded.stderr
    assert run_arshif("status", "--db", db_path, "--fail-if-stale", "48").returncode == 1  # all sources: unchanged
