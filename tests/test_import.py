"""`arshif import` of WARC files Arshif did not write (issue 23): wget's, CC-NEWS-shaped (warcio's writer), and
damaged ones import into an archive equal to a crawl of the same pages; a second import adds nothing; a
reextract keeps the imported articles; a SIGKILL mid-file then the same command equals a clean import."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import importlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import pytest
from sqlite_utils import Database
from warcio.warcwriter import WARCWriter

from tests.conftest import PROJECT_DIR, archive_snapshot, run_arshif
from tests.mount_namespace import IMPORT_RECORDS_COMMITTED, run_on_small_disk

cc_news = importlib.import_module("bench.import.cc_news")  # `import` is a keyword: bench/import/
bench_run = importlib.import_module("bench.import.run")


def arshif_import(*args: str) -> subprocess.CompletedProcess:
    return run_arshif("import", *args)


def contents(db_path: Path) -> dict:
    """What a second import must not change: every row of the archive's tables but `crawls`, and the WARC records."""
    db = Database(db_path)
    tables = {name: db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in ("articles", "duplicates", "pages", "versions")}
    warc = db_path.parent / "warc"
    return {**tables, "warc_bytes": sum(p.stat().st_size for p in warc.glob("*.warc.gz")) if warc.is_dir() else 0}


@pytest.fixture(scope="module")
def demo_pages(demo_crawl, demo_site) -> list[tuple[str, str, bytes]]:
    """(url, content type, body) of every page the demo crawl fetched with status 200, fetched again from the same server."""
    pages = []
    for (url,) in demo_crawl.db.execute("SELECT url FROM pages WHERE status = 200 ORDER BY url"):
        with urllib.request.urlopen(url, timeout=10) as response:
            pages.append((url, response.headers.get("Content-Type"), response.read()))
    return pages


def cc_news_members(pages, start: int = 0) -> list[bytes]:
    """Each page's request/response/metadata records, gzipped per record, as warcio writes them (one item per page).
    The same pages give the same bytes on every run: where a test cuts them never depends on chance."""
    members = []
    with seeded_record_ids(zlib.crc32("".join(url for url, _, _ in pages).encode()) + start):
        for k, (url, content_type, body) in enumerate(pages, start):
            out = io.BytesIO()
            cc_news.write_record_triplet(WARCWriter(out, gzip=True), url, body, f"2024-03-01T10:{k // 60 % 60:02d}:{k % 60:02d}Z",
                                         content_type=content_type or "application/octet-stream")
            members.append(out.getvalue())
    return members


@contextlib.contextmanager
def seeded_record_ids(seed: int):
    """warcio's WARC-Record-IDs (uuid4, the only random bytes it writes) drawn from `seed` for the block."""
    import random
    from unittest import mock
    from uuid import UUID

    from warcio.statusandheaders import StatusAndHeadersParser

    ids = random.Random(seed)
    fixed = staticmethod(lambda id_=None: f"<urn:uuid:{UUID(int=ids.getrandbits(128), version=4)}>")
    with mock.patch.object(StatusAndHeadersParser, "make_warc_id", fixed):
        yield


def english_pages(count: int) -> list[tuple[str, str, bytes]]:
    import random

    rng = random.Random(7)
    pages = [cc_news.other_page(rng, k) for k in range(count)]
    return [(url, "text/html; charset=utf-8", body) for url, body in pages]


# -- (b) CC-NEWS layout -----------------------------------------------------------------------

def test_cc_news_warc_imports_like_a_crawl_and_twice_adds_nothing(demo_crawl, demo_pages, tmp_path):
    warc = tmp_path / "CC-NEWS-20240301.warc.gz"
    warc.write_bytes(b"".join(cc_news_members([*demo_pages, *english_pages(40)])))
    db_path = tmp_path / "archive.db"
    result = arshif_import(str(warc), "--db", str(db_path))
    assert result.returncode == 0, result.stderr[-3000:]
    db = Database(db_path)
    assert archive_snapshot(db) == archive_snapshot(demo_crawl.db)
    assert {row["source"] for row in db.query("SELECT DISTINCT source FROM articles")} == {"demo"}  # seeds/demo.toml covers 127.0.0.1
    run = next(db.query("SELECT * FROM crawls"))
    assert (run["kind"], run["status"], run["source"]) == ("import", "finished", "import")
    [entry] = json.loads(run["import_files"])
    assert entry["name"] == warc.name and entry["size"] == warc.stat().st_size and len(entry["sha256"]) == 64
    assert entry["counts"]["pre_check_rejected"] == 40 and entry["counts"]["request_records"] == len(demo_pages) + 40
    # every stored article has its pages row, of this run, pointing at its copy in the archive's own WARC folder
    orphans = db.execute("SELECT COUNT(*) FROM articles a LEFT JOIN pages p ON p.url = a.url"
                         " WHERE p.crawl_id IS NOT ? OR p.warc_file IS NOT a.warc_file", [run["id"]]).fetchone()[0]
    assert orphans == 0
    assert all((tmp_path / "warc" / row["warc_file"]).is_file() for row in db.query("SELECT warc_file FROM articles"))

    before = contents(db_path)
    again = arshif_import(str(warc), "--db", str(db_path))
    assert again.returncode == 0, again.stderr[-3000:]
    assert contents(db_path) == before  # no row, no WARC record added
    assert "0 articles stored" in again.stdout

    # the copies are the archive's own: reextract rebuilds the same archive from them, offline
    rebuilt = tmp_path / "rebuilt.db"
    result = run_arshif("reextract", "--db", str(db_path), "--into", str(rebuilt))
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_snapshot(Database(rebuilt)) == archive_snapshot(db)
    assert {row["source"] for row in Database(rebuilt).query("SELECT DISTINCT source FROM articles")} == {"demo"}


def test_hosts_no_seed_covers_become_sources_and_since_filters_on_warc_date(tmp_path):
    warc = tmp_path / "generated.warc.gz"
    made = cc_news.write_cc_news(warc, arabic=30, other=30)
    db_path = tmp_path / "archive.db"
    result = arshif_import(str(warc), "--db", str(db_path), "--since", made["last_date"][:16])
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(next(Database(db_path).query("SELECT import_files FROM crawls"))["import_files"])[0]["counts"]
    assert counts["before_since"] == 59 and counts.get("pages", 0) <= 1
    result = arshif_import(str(warc), "--db", str(db_path))
    assert result.returncode == 0, result.stderr[-3000:]
    sources = {row["source"] for row in Database(db_path).query("SELECT DISTINCT source FROM articles")}
    assert sources == {"almarsad-news.example"}  # the host, without its www.
    # `arshif status` covers imports: the host's row and the imports' own row show the last import, not "never"
    status = json.loads(run_arshif("status", "--db", str(db_path), "--json").stdout)
    rows = {row["source"]: row for row in status["sources"]}
    db = Database(db_path)
    latest = db.execute("SELECT MAX(id) FROM crawls").fetchone()[0]
    # the --since import may have brought the latest article (by WARC-Date: the file's last record); the second
    # run read the same file, so it is the host's last run either way
    expected = {"import": latest,  # the imports' own row: the latest
                "almarsad-news.example": latest}  # a host: the latest run of the file its latest article came from
    for name, crawl_id in expected.items():
        assert rows[name]["state"] == "untracked" and not rows[name]["stale"], rows[name]
        assert (rows[name]["last_run"]["id"], rows[name]["last_run"]["kind"]) == (crawl_id, "import"), rows[name]
    table = run_arshif("status", "--db", str(db_path)).stdout
    assert "finished (import)" in next(line for line in table.splitlines() if line.startswith("almarsad-news.example"))


def test_the_pre_check_drops_no_page_the_full_path_keeps(tmp_path):
    """The cheap script test before parsing must never lose an Arabic article (bench/import checks it at CC-NEWS size)."""
    warc = tmp_path / "generated.warc.gz"
    cc_news.write_cc_news(warc, arabic=40, other=60, seed=3)
    checked, full = tmp_path / "checked" / "archive.db", tmp_path / "full" / "archive.db"
    assert arshif_import(str(warc), "--db", str(checked)).returncode == 0
    result = arshif_import(str(warc), "--db", str(full), "--no-pre-check")
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_snapshot(Database(checked)) == archive_snapshot(Database(full))
    assert Database(checked)["articles"].count > 20
    rejected = json.loads(next(Database(checked).query("SELECT import_files FROM crawls"))["import_files"])[0]["counts"]
    assert rejected["pre_check_rejected"] == 60


# -- (c) damaged members ----------------------------------------------------------------------

def _bomb_member(url: str) -> bytes:
    """A response whose gzip Content-Encoding decodes to 64 MB (DOWNLOAD_MAXSIZE is 10 MB): 64 KB in the file."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(compressor.compress(b" " * (1 << 20)) for _ in range(64)) + compressor.flush()
    out = io.BytesIO()
    cc_news.write_record_triplet(WARCWriter(out, gzip=True), url, bomb, "2024-03-01T11:00:00Z",
                                 extra_headers=[("Content-Encoding", "gzip")])
    return out.getvalue()


def _non_http_member(url: str) -> bytes:
    """A response record whose block is not an HTTP message (Content-Type text/plain), written by hand."""
    payload = "نص عربي بلا رؤوس HTTP".encode()
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2024-03-01T11:00:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode()
    return gzip.compress(head + payload + b"\r\n\r\n")


def _wrong_length_member(url: str, body: bytes) -> bytes:
    """A response whose Content-Length says 200 bytes more than the record holds."""
    raw = io.BytesIO()
    with seeded_record_ids(zlib.crc32(url.encode())):
        cc_news.write_record_triplet(WARCWriter(raw, gzip=False), url, body, "2024-03-01T11:00:00Z")
    text = raw.getvalue()
    head, _, rest = text.partition(b"WARC-Type: response")
    start = rest.index(b"Content-Length: ") + len(b"Content-Length: ")
    end = rest.index(b"\r\n", start)
    rest = rest[:start] + str(int(rest[start:end]) + 200).encode() + rest[end:]
    return gzip.compress(head + b"WARC-Type: response" + rest)


def test_damaged_members_are_skipped_and_counted(demo_crawl, demo_site, demo_pages, tmp_path):
    members = cc_news_members(demo_pages)
    article = next(body for url, _, body in demo_pages if url.endswith("/articles/1001.html"))
    origin = demo_site.origin
    damage = [
        b"\x1f\x8b\x08\x00" + random.Random(5).randbytes(3000),  # a corrupt gzip member (the same bytes each run)
        members[3][: len(members[3]) // 2],  # a member cut short (a page seen whole elsewhere in the file)
        _bomb_member(f"{origin}/articles/bomb.html"),
        _non_http_member(f"{origin}/articles/plain.html"),
        _wrong_length_member(f"{origin}/articles/9001.html", article),
        b"\x00" * 10 + b"not a record at all\r\n\r\n",
    ]
    mixed = []
    for k, member in enumerate(members):
        mixed.append(member)
        if k % 4 == 1 and damage:
            mixed.append(damage.pop(0))
    mixed += damage
    last = cc_news_members([(f"{origin}/articles/9002.html", "text/html", article)])[0]
    mixed.append(last[: len(last) // 2])  # the file ends inside the response record
    warc = tmp_path / "damaged.warc.gz"
    warc.write_bytes(b"".join(mixed))

    db_path = tmp_path / "archive.db"
    process = subprocess.Popen([sys.executable, "-m", "crawler.cli.main", "import", str(warc), "--db", str(db_path)],
                               cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = bench_run.wait_with_peak_rss(process)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    assert archive_snapshot(Database(db_path)) == archive_snapshot(demo_crawl.db)
    counts = json.loads(next(Database(db_path).query("SELECT import_files FROM crawls"))["import_files"])[0]["counts"]
    # the junk is damaged; the corrupt member is damaged or, when zlib reads it to the end without an error, a
    # member that never ended (wrong_length): either way one count each
    assert counts["damaged"] >= 1 and counts["too_large"] == 1 and counts["not_http"] == 1
    # five damaged pieces besides the bomb and the non-HTTP record: each counted once, never twice
    assert counts["wrong_length"] >= 1 and counts["damaged"] + counts["wrong_length"] == 5, counts
    assert peak < 400, f"peak RSS {peak} MB while a 64 MB bomb was skipped"


# -- (a) wget --------------------------------------------------------------------------------

def test_wget_warc_imports_like_a_crawl(demo_crawl, demo_site, tmp_path):
    wget = shutil.which("wget")
    if wget is None:
        pytest.skip("wget is not installed (.ci/run installs Debian's): the wget WARC test needs it")
    result = subprocess.run([wget, "-q", "-r", "-l", "6", "--warc-file=" + str(tmp_path / "site"), "--no-warc-keep-log",
                             "-P", str(tmp_path / "mirror"), f"{demo_site.origin}/", f"{demo_site.origin}/sitemap.xml"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert (tmp_path / "site.warc.gz").is_file(), result.stderr[-2000:]
    db_path = tmp_path / "archive.db"
    imported = arshif_import(str(tmp_path / "site.warc.gz"), "--db", str(db_path))
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert archive_snapshot(Database(db_path)) == archive_snapshot(demo_crawl.db)


# -- kill -9 and the same command again -------------------------------------------------------

UNIT = "ARSHIF_IMPORT_UNIT_RECORDS=150"  # 50 pages a unit: 6 units in the file, each larger than nothing else


def test_sigkill_mid_file_then_the_same_command_equals_a_clean_import(tmp_path):
    """Killed three times (once pages are copied: mostly inside the first unit; once the second run has committed
    a unit; three units into the third run), then the same command:
    the archive a clean import makes. Exact and near copies are spread over the units (cc_news shuffles them), so
    which copy is the article must be decided per unit, the same way in both (pipelines/outcomes/commit_units.py)."""
    warc = tmp_path / "big.warc.gz"
    cc_news.write_cc_news(warc, arabic=180, other=120, seed=5)
    clean = tmp_path / "clean" / "archive.db"
    result = arshif_import(str(warc), "--db", str(clean), "-s", UNIT)
    assert result.returncode == 0, result.stderr[-3000:]

    killed = tmp_path / "killed" / "archive.db"
    command = [sys.executable, "-m", "crawler.cli.main", "import", str(warc), "--db", str(killed), "-s", UNIT]
    copies = killed.parent / "warc"
    for reached in (lambda run: any(p.stat().st_size > 4096 for p in copies.glob("*.warc.gz")),  # pages copied
                    lambda run: _records_committed(killed, run) >= 150,  # this run's first unit in the archive
                    lambda run: _records_committed(killed, run) >= 450):  # three units of the third run in (earlier ones skipped)
        earlier = _records_committed(killed, None)  # the last run's id: the events counted are the new run's
        process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        while process.poll() is None and not reached(earlier):
            time.sleep(0.02)
        assert process.poll() is None, "the import ended before the kill point"
        os.killpg(process.pid, signal.SIGKILL)  # the import and its extraction workers
        process.wait()
    again = arshif_import(str(warc), "--db", str(killed), "-s", UNIT)
    assert again.returncode == 0, again.stderr[-3000:]

    assert archive_snapshot(Database(killed)) == archive_snapshot(Database(clean))
    for query in ("SELECT url, source, outcome FROM pages ORDER BY 1", "SELECT DISTINCT source FROM articles ORDER BY 1",
                  "SELECT url, source, canonical_url, story_match IS NULL FROM articles ORDER BY 1"):
        assert Database(killed).execute(query).fetchall() == Database(clean).execute(query).fetchall(), query
    assert Database(killed)["duplicates"].count > 10 and Database(killed)["articles"].count > 100
    stories = archive_snapshot(Database(clean))["stories"]
    assert any(len(story) > 1 for story in stories)  # near copies were joined: the partition was put to the test
    statuses = [row["status"] for row in Database(killed).query("SELECT status FROM crawls ORDER BY id")]
    assert statuses == ["killed", "killed", "killed", "finished"]


def _records_committed(db_path: Path, after: int | None = 0) -> int:
    """Records the import whose crawls row comes after row `after` has committed (its counts, written with each
    unit); 0 while it has no row. `after` None: the id of the last row (0 when none)."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as connection:
            row = connection.execute("SELECT id, import_files FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return 0
    if after is None:
        return row[0] if row else 0
    if row is None or row[0] <= after:
        return 0
    return sum(entry["counts"].get("records", 0) for entry in json.loads(row[1] or "[]"))


def _articles(db_path: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


# -- refusals ---------------------------------------------------------------------------------

def test_a_missing_file_or_a_foreign_database_is_refused_before_anything_is_written(tmp_path):
    result = arshif_import(str(tmp_path / "absent.warc.gz"), "--db", str(tmp_path / "archive.db"))
    assert result.returncode == 2 and "no such file" in result.stderr
    assert not (tmp_path / "archive.db").exists()
    other = tmp_path / "other.db"
    Database(other)["t"].insert({"a": 1})
    warc = tmp_path / "x.warc.gz"
    cc_news.write_cc_news(warc, arabic=1, other=1)
    before = other.read_bytes()
    assert arshif_import(str(warc), "--db", str(other)).returncode == 4
    assert other.read_bytes() == before


def test_a_url_is_streamed_to_a_temporary_file_and_no_copy_points_at_the_original(tmp_path):
    from crawler.demo.server import SiteServer

    served = tmp_path / "served"
    served.mkdir()
    warc = served / "generated.warc.gz"
    cc_news.write_cc_news(warc, arabic=12, other=8)
    by_url, by_file = tmp_path / "url" / "archive.db", tmp_path / "nocopy" / "archive.db"
    with SiteServer(served) as server:
        result = arshif_import(f"{server.origin}/generated.warc.gz", "--db", str(by_url))
        assert result.returncode == 0, result.stderr[-3000:]
        refused = arshif_import(f"{server.origin}/generated.warc.gz", "--db", str(tmp_path / "r.db"), "--no-copy")
        assert refused.returncode == 2 and "--no-copy needs local files" in refused.stderr
    assert not [p for p in by_url.parent.iterdir() if p.name.startswith(".import-")]  # the download is deleted
    [entry] = json.loads(next(Database(by_url).query("SELECT import_files FROM crawls"))["import_files"])
    assert entry["path"] == f"{server.origin}/generated.warc.gz" and entry["size"] == warc.stat().st_size

    result = arshif_import(str(warc), "--db", str(by_file), "--no-copy")
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_snapshot(Database(by_file)) == archive_snapshot(Database(by_url))
    assert not (by_file.parent / "warc").exists() or not list((by_file.parent / "warc").glob("*.warc.gz"))
    rows = list(Database(by_file).query("SELECT url, warc_file, warc_offset, warc_length FROM articles"))
    assert rows and {row["warc_file"] for row in rows} == {str(warc.resolve())}
    raw = warc.read_bytes()
    for row in rows:  # each reference is the record of that URL in the original file
        record = gzip.decompress(raw[row["warc_offset"]:row["warc_offset"] + row["warc_length"]])
        assert f"WARC-Target-URI: {row['url']}".encode() in record
    assert asyncio.run(_stored_copy_status(by_file)) == (200, 404)


async def _stored_copy_status(db_path: Path) -> tuple[int, int]:
    """The stored-copy view reads a --no-copy article from the original file; a row naming any other absolute
    path (one the operator never imported) shows nothing."""
    from tests.conftest import make_datasette

    db = Database(db_path)
    first, second = [row["id"] for row in db.query("SELECT id FROM articles ORDER BY id LIMIT 2")]
    title = db["articles"].get(first)["title"]
    db.execute("UPDATE articles SET warc_file = '/etc/passwd', warc_offset = 0 WHERE id = ?", [second])
    db.conn.commit()
    ds = make_datasette(db_path)
    shown = await ds.client.get(f"/-/archived/{first}/page")
    assert shown.status_code != 200 or title.split()[0] in shown.text
    return shown.status_code, (await ds.client.get(f"/-/archived/{second}/page")).status_code


def test_progress_is_shown_on_a_terminal_only(tmp_path):
    import pty

    warc = tmp_path / "generated.warc.gz"
    cc_news.write_cc_news(warc, arabic=3, other=30)
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "crawler.cli.main", "import", str(warc), "--db", str(tmp_path / "a.db")],
                               cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    process.wait(timeout=300)
    os.close(leader)
    assert process.returncode == 0
    assert b"generated.warc.gz: 100 records read, 3 kept" in shown and b"records/s" in shown and b"ETA" in shown
    piped = arshif_import(str(warc), "--db", str(tmp_path / "b.db"))  # stderr a pipe: no progress lines
    assert piped.returncode == 0 and "records read" not in piped.stderr


def test_a_bad_since_or_a_warc_folder_that_cannot_be_made_fails_with_a_message(tmp_path):
    warc = tmp_path / "x.warc.gz"
    cc_news.write_cc_news(warc, arabic=2, other=1)
    result = arshif_import(str(warc), "--db", str(tmp_path / "a.db"), "--since", "yesterday")
    assert result.returncode == 2 and "is not a date" in result.stderr and not (tmp_path / "a.db").exists()
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "warc").write_text("a file where the WARC folder goes")
    result = arshif_import(str(warc), "--db", str(blocked / "archive.db"))
    assert result.returncode == 1 and "did not finish (failed: WARC copy" in result.stderr
    db = Database(blocked / "archive.db")
    assert db["articles"].count == 0 and next(db.query("SELECT status FROM crawls"))["status"] == "failed"


def test_reextract_rebuilds_no_copy_imports_from_the_original_files(tmp_path):
    warc = tmp_path / "generated.warc.gz"
    cc_news.write_cc_news(warc, arabic=16, other=4, seed=11)
    db_path = tmp_path / "archive" / "archive.db"
    assert arshif_import(str(warc), "--db", str(db_path), "--no-copy").returncode == 0
    rebuilt = tmp_path / "rebuilt.db"
    result = run_arshif("reextract", "--db", str(db_path), "--into", str(rebuilt))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "16 archived article pages" in result.stdout  # read from the original file, not kept as they were
    assert archive_snapshot(Database(rebuilt)) == archive_snapshot(Database(db_path))
    assert {r["warc_file"] for r in Database(rebuilt).query("SELECT warc_file FROM articles")} == {str(warc.resolve())}
    moved = warc.with_name("moved.warc.gz")
    warc.rename(moved)  # the original is gone: reextract names it and changes nothing
    result = run_arshif("reextract", "--db", str(db_path), "--into", str(tmp_path / "again.db"))
    assert result.returncode == 5 and str(warc.resolve()) in result.stderr


# -- odd dates and edited originals (a hostile review's findings) -------------------------------

def _dated_warc(path: Path, dates: list[str]) -> list[str]:
    """One Arabic article per date, in the CC-NEWS layout; returns their URLs."""
    pages = list(cc_news.arabic_pages(len(dates), seed=5))
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for (url, body, _), date in zip(pages, dates):
            cc_news.write_record_triplet(writer, url, body, date, content_type="text/html; charset=utf-8")
    return [url for url, _, _ in pages]


def test_odd_warc_dates_are_read_as_utc_or_skipped_and_never_stop_an_import(tmp_path):
    """W3C-DTF forms other tools write (an offset, a bare date, fractions) are stored as UTC; an unreadable date
    skips its record only (it used to fail every record of the file, or hang holding the lock)."""
    warc = tmp_path / "odd.warc.gz"
    urls = _dated_warc(warc, ["2024-03-01T10:05:00+03:00", "not-a-date", "2024-03-02", "2024-03-03T08:00:00.250Z"])
    db_path = tmp_path / "archive.db"
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "import", str(warc), "--db", str(db_path)],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    db = Database(db_path)
    fetched = {row["url"]: row["fetched_at"] for row in db.query("SELECT url, fetched_at FROM articles")}
    expected = {urls[0]: "2024-03-01T07:05:00+00:00", urls[2]: "2024-03-02T00:00:00+00:00",
                urls[3]: "2024-03-03T08:00:00+00:00"}
    # the generated plan makes some pages non-Arabic (dropped by the language filter): every stored one is checked
    assert len(fetched) >= 2 and all(fetched[url] == expected.get(url) for url in fetched), fetched
    taken = {row["url"] for row in db.query("SELECT url FROM pages")}
    assert urls[1] not in taken and taken == set(expected)
    counts = json.loads(next(db.query("SELECT import_files FROM crawls"))["import_files"])[0]["counts"]
    assert counts["bad_date"] == 1
    assert next(db.query("SELECT status FROM crawls"))["status"] == "finished"


def test_a_since_that_names_no_real_day_is_refused(tmp_path):
    warc = tmp_path / "x.warc.gz"
    _dated_warc(warc, ["2024-03-01T10:00:00Z"])
    for since in ("2024-13-45", "2024-02-30", ""):
        result = arshif_import(str(warc), "--db", str(tmp_path / "a.db"), "--since", since)
        assert result.returncode == 2 and "is not a date" in result.stderr, (since, result.stderr[-500:])
    assert not (tmp_path / "a.db").exists()


def test_reextract_refuses_a_no_copy_original_edited_since_its_import(tmp_path):
    """Same length, other words: replaying it would silently rewrite the archived articles."""
    warc = tmp_path / "original.warc"
    pages = list(cc_news.arabic_pages(3, seed=9))
    with open(warc, "wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        for k, (url, body, _) in enumerate(pages):
            cc_news.write_record_triplet(writer, url, body, f"2024-03-0{k + 1}T10:00:00Z", content_type="text/html; charset=utf-8")
    db_path = tmp_path / "archive" / "archive.db"
    assert arshif_import(str(warc), "--db", str(db_path), "--no-copy").returncode == 0
    before = archive_snapshot(Database(db_path))
    assert before["articles"]
    word = "ال".encode()
    data = warc.read_bytes()
    assert word in data
    warc.write_bytes(data.replace(word, "لا".encode()))  # the same length: every offset still holds a record
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 5, (result.stdout[-1000:], result.stderr[-2000:])
    assert "changed since it was imported" in result.stderr and str(warc.resolve()) in result.stderr
    assert archive_snapshot(Database(db_path)) == before


# -- the WARC copy cannot be written (F1) -------------------------------------------------------

IMPORT_ARGS = ["-s", "ARSHIF_IMPORT_UNIT_RECORDS=150", "-s", "ARSHIF_WARC_MAX_SIZE=65536"]  # many units, many WARC files


def test_a_warc_folder_turned_read_only_mid_import_fails_it_and_the_rerun_equals_a_clean_import(tmp_path):
    """The copy into the archive's WARC folder fails (EROFS) after a unit is committed: the import used to hang
    holding the lock. It must stop, exit 1, say why, leave its run `failed` with the cause and the lock free,
    keep what it committed, and the same command afterwards must give what a clean import gives."""
    from tests.test_write_failures import _check

    warc = tmp_path / "big.warc.gz"
    cc_news.write_cc_news(warc, arabic=180, other=120, seed=5)
    run = run_on_small_disk(tmp_path, ["import", str(warc), *IMPORT_ARGS], "256m", until=IMPORT_RECORDS_COMMITTED,
                            at_least=150)
    result, stderr = {"code": run.code, "committed": run.committed}, run.stderr
    assert run.committed >= 150 and not run.finished_before, result  # the import was mid-way
    assert run.code == 1, (result, stderr[-3000:])
    assert "Read-only file system" in stderr and "did not finish (failed: WARC copy" in stderr, stderr[-3000:]
    assert "Traceback" not in stderr
    db_path = run.saved / "archive.db"
    row = next(Database(db_path).query("SELECT * FROM crawls ORDER BY id DESC LIMIT 1"))
    assert row["status"] == "failed" and "Read-only file system" in row["error"], row
    _check(db_path)
    stored = Database(db_path)["articles"].count
    assert stored > 0
    assert _unindexed(run.saved / "warc")  # the file closed at the rotation that failed: its index could not be made
    files, refs = _warc_state(db_path)
    again = arshif_import(str(warc), "--db", str(db_path), "-s", UNIT)  # the lock is free: it runs
    assert again.returncode == 0, again.stderr[-3000:]
    clean = tmp_path / "clean" / "archive.db"
    assert arshif_import(str(warc), "--db", str(clean), "-s", UNIT).returncode == 0
    _check(db_path)
    assert archive_snapshot(Database(db_path)) == archive_snapshot(Database(clean))
    assert stored < Database(clean)["articles"].count
    _assert_indexes_whole(run.saved / "warc")  # the rerun wrote the missing index, and those of its own files
    after_files, after_refs = _warc_state(db_path)
    assert files.items() <= after_files.items() and refs.items() <= after_refs.items()  # nothing earlier changed


def _warc_state(db_path: Path) -> tuple[dict, dict]:
    """The archive's WARC files (name: sha256) and where each `pages` row points (url: file, offset, length)."""
    import hashlib

    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (db_path.parent / "warc").glob("*.warc.gz")}
    refs = {url: (name, offset, length) for url, name, offset, length in
            Database(db_path).execute("SELECT url, warc_file, warc_offset, warc_length FROM pages")}
    return files, refs


def _unindexed(folder: Path) -> list[str]:
    from pipelines.archive.warc import cdxj_path

    return sorted(p.name for p in folder.glob("*.warc.gz") if not cdxj_path(p).exists())


def _assert_indexes_whole(folder: Path) -> None:
    """Every WARC file has its CDXJ index, each what cdxj-indexer reads off the file, and no partial one is left."""
    from cdxj_indexer.main import write_cdx_index

    from pipelines.archive.warc import cdxj_path

    files = sorted(folder.glob("*.warc.gz"))
    assert files
    for path in files:
        reference = io.StringIO()
        write_cdx_index(reference, [str(path)], {"sort": True})
        assert cdxj_path(path).read_text(encoding="utf-8") == reference.getvalue(), path.name
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".partial")]


def test_an_import_whose_cdxj_cannot_be_written_fails_and_the_next_import_or_crawl_writes_it(tmp_path, demo_site):
    """The WARC folder turns read-only mid-import, with one copy file open (no rotation): the import keeps
    appending to it (its descriptor predates the read-only bind), stores every article, and only the file's
    CDXJ index, written at the close, fails. The run is `failed` (exit 1), the file has no index, and only
    crawls wrote missing indexes: an archive filled by imports alone kept it unindexed forever. The next
    import writes it (and adds nothing: the WARC records and `pages` references stay as they are), so does a
    crawl; and `arshif status` shows the hosts' last run as that clean rerun, not the failed import that brought
    their articles (`failed (import)` forever, before)."""
    from pipelines.archive.warc import cdxj_path
    from tests.conftest import crawl
    from tests.test_write_failures import _check

    warc = tmp_path / "big.warc.gz"
    cc_news.write_cc_news(warc, arabic=180, other=120, seed=5)
    run = run_on_small_disk(tmp_path, ["import", str(warc), "-s", UNIT], "256m", until=IMPORT_RECORDS_COMMITTED,
                            at_least=150)
    assert run.committed >= 150 and not run.finished_before, run  # the folder turned with the copy file open
    assert run.code == 1, run.stderr[-3000:]
    assert "did not finish (failed: WARC index: Read-only file system" in run.stderr, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    db_path, folder = run.saved / "archive.db", run.saved / "warc"
    failed_run = next(Database(db_path).query("SELECT * FROM crawls ORDER BY id DESC LIMIT 1"))
    assert failed_run["status"] == "failed" and "cdxj" in failed_run["error"], failed_run
    _check(db_path)
    clean = tmp_path / "clean" / "archive.db"
    assert arshif_import(str(warc), "--db", str(clean), "-s", UNIT).returncode == 0
    assert archive_snapshot(Database(db_path)) == archive_snapshot(Database(clean))  # every article was stored
    [copy] = folder.glob("*.warc.gz")
    assert _unindexed(folder) == [copy.name] and not cdxj_path(copy).exists()
    crawled = Path(shutil.copytree(run.saved, tmp_path / "crawled"))
    before = _warc_state(db_path)
    assert len(before[1]) == Database(db_path)["pages"].count > 100

    again = arshif_import(str(warc), "--db", str(db_path), "-s", UNIT)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "import: 0 articles stored" in again.stdout
    assert _warc_state(db_path) == before  # no record added or changed; every pages row points where it did
    _assert_indexes_whole(folder)

    db = Database(db_path)
    rerun = db.execute("SELECT MAX(id) FROM crawls").fetchone()[0]
    hosts = [row[0] for row in db.execute("SELECT DISTINCT source FROM articles")]
    assert hosts and all(not (PROJECT_DIR / "seeds" / f"{host}.toml").exists() for host in hosts)
    status = json.loads(run_arshif("status", "--db", str(db_path), "--json").stdout)
    rows = {row["source"]: row for row in status["sources"]}
    for name in (*hosts, "import"):
        last = rows[name]["last_run"]
        assert (last["id"], last["status"], last["kind"]) == (rerun, "finished", "import"), (name, last)
    table = run_arshif("status", "--db", str(db_path)).stdout
    assert all("finished (import)" in next(line for line in table.splitlines() if line.startswith(host)) for host in hosts)

    # a crawl writes it too (it indexes every file of the folder before its own)
    crawled_before = _warc_state(crawled / "archive.db")
    result = crawl("demo", crawled / "archive.db", demo_site.origin)
    assert result.returncode == 0, result.stderr[-3000:]
    _assert_indexes_whole(crawled / "warc")
    files, refs = _warc_state(crawled / "archive.db")
    assert crawled_before[0].items() <= files.items() and crawled_before[1].items() <= refs.items()


def test_ctrl_c_mid_import_stops_it_and_the_rerun_equals_a_clean_import(tmp_path):
    """SIGINT with pages in the pipelines: Scrapy's graceful close used to wait forever for them (no response is
    ever scraped in an import, and only that made it look again). The open unit is dropped whole, as a kill drops it."""
    warc = tmp_path / "big.warc.gz"
    cc_news.write_cc_news(warc, arabic=180, other=120, seed=5)
    db_path = tmp_path / "stopped" / "archive.db"
    process = subprocess.Popen([sys.executable, "-m", "crawler.cli.main", "import", str(warc), "--db", str(db_path), "-s", UNIT],
                               cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None and _records_committed(db_path) < 150:
        time.sleep(0.02)
    assert process.poll() is None, "the import ended before Ctrl-C"
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 1 and "did not finish (killed" in stderr, stderr[-3000:]
    row = next(Database(db_path).query("SELECT * FROM crawls"))
    assert row["status"] == "killed"
    stored = Database(db_path)["articles"].count
    assert row["stored"] == stored  # the dropped unit's articles are not counted as stored
    again = arshif_import(str(warc), "--db", str(db_path), "-s", UNIT)
    assert again.returncode == 0, again.stderr[-3000:]
    clean = tmp_path / "clean" / "archive.db"
    assert arshif_import(str(warc), "--db", str(clean), "-s", UNIT).returncode == 0
    assert archive_snapshot(Database(db_path)) == archive_snapshot(Database(clean))
    assert stored < Database(clean)["articles"].count


def test_a_directory_or_the_same_file_twice_gets_a_plain_answer(tmp_path):
    """F6: a directory said "no such file"; the same file named twice was read twice and its counts printed twice."""
    folder = tmp_path / "warcs"
    folder.mkdir()
    result = arshif_import(str(folder), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 2 and "is a directory" in result.stderr and "no such file" not in result.stderr
    assert not (tmp_path / "a.db").exists()
    warc = folder / "x.warc.gz"
    made = cc_news.write_cc_news(warc, arabic=6, other=4)
    link = tmp_path / "same.warc.gz"
    link.symlink_to(warc)
    result = arshif_import(str(warc), str(link), str(warc), "--db", str(tmp_path / "a.db"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("is the same file as") == 2
    [line] = [line for line in result.stdout.splitlines() if "records" in line and "HTML pages imported" in line]
    assert line.startswith(f"x.warc.gz: {made['records']} records")
    [entry] = json.loads(next(Database(tmp_path / "a.db").query("SELECT import_files FROM crawls"))["import_files"])
    assert entry["counts"]["records"] == made["records"] and "already_imported" not in entry["counts"]


def test_a_file_that_is_not_a_warc_is_named_and_nothing_is_written(tmp_path):
    """The wrong file named (a page, a text file, an empty file): a plain message, exit 2, no archive made;
    it was read as one record "not http" (an HTML page also "wrong length") and exit 0."""
    page = tmp_path / "article.html"
    page.write_text("<!DOCTYPE html><html lang='ar'><body><p>خبر</p></body></html>", encoding="utf-8")
    text = tmp_path / "notes.txt"
    text.write_text("WARC files are listed in index.txt\n", encoding="utf-8")
    empty = tmp_path / "empty.warc"
    empty.write_bytes(b"")
    for given, said in ((page, "is not a WARC or ARC file"), (text, "is not a WARC or ARC file"), (empty, "is empty")):
        result = arshif_import(str(given), "--db", str(tmp_path / "a.db"))
        assert result.returncode == 2 and f"{given} {said}" in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stderr and not (tmp_path / "a.db").exists()
    # an uncompressed WARC still passes, even after blank lines
    warc = tmp_path / "plain.warc"
    buffer = io.BytesIO()
    WARCWriter(buffer, gzip=False).write_record(WARCWriter(io.BytesIO()).create_warc_record(
        "http://127.0.0.1/x.html", "resource", payload=io.BytesIO(b"x"), warc_content_type="text/plain"))
    warc.write_bytes(b"\r\n" + buffer.getvalue())
    result = arshif_import(str(warc), "--db", str(tmp_path / "b.db"))
    assert result.returncode == 0, result.stderr[-2000:]


# -- ARC files, and Heritrix/Browsertrix WARCs ----------------------------------------------------

def _arc_file(pages, gzipped: bool) -> bytes:
    """An ARC v1 file (the Internet Archive's format before WARC; warcio reads it, but does not write it): a
    `filedesc://` header record, then per page a URL-record line and the HTTP response; gzipped per record."""
    def record(line: str, block: bytes) -> bytes:
        data = f"{line} {len(block)}\n".encode() + block + b"\n"
        return gzip.compress(data) if gzipped else data

    version = b"1 0 Arshif test\nURL IP-address Archive-date Content-type Archive-length\n"
    out = [record("filedesc://test.arc 0.0.0.0 20240301100000 text/plain", version)]
    for k, (url, content_type, body) in enumerate(pages):
        http = (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        out.append(record(f"{url} 127.0.0.1 202403011{k // 60 % 60:02d}{k % 60:02d}00 {content_type.split(';')[0]}", http))
    return b"".join(out)


@pytest.mark.parametrize("gzipped", [True, False], ids=["arc.gz", "arc"])
def test_an_arc_file_imports_like_a_crawl(demo_crawl, demo_pages, tmp_path, gzipped):
    arc = tmp_path / ("pages.arc.gz" if gzipped else "pages.arc")
    arc.write_bytes(_arc_file([*demo_pages, *english_pages(10)], gzipped))
    db_path = tmp_path / "archive.db"
    result = arshif_import(str(arc), "--db", str(db_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_snapshot(Database(db_path)) == archive_snapshot(demo_crawl.db)
    counts = json.loads(next(Database(db_path).query("SELECT import_files FROM crawls"))["import_files"])[0]["counts"]
    assert counts["records"] == len(demo_pages) + 11 and counts["pre_check_rejected"] == 10
    assert not {k for k in counts if k in ("damaged", "wrong_length", "not_http", "bad_date")}, counts


def _chunked(data: bytes, size: int = 4000) -> bytes:
    parts = [data[k:k + size] for k in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def _heritrix_warc(path: Path, pages) -> None:
    """What Heritrix and Browsertrix write, with warcio's writer: warcinfo; per capture a response, then its
    request and metadata records naming it (WARC-Concurrent-To); bodies gzip-encoded and chunked as sent; and
    a second crawl's captures as revisit records (identical payload digest, WARC-Refers-To-Target-URI/-Date)."""
    from warcio.statusandheaders import StatusAndHeaders

    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "Heritrix/3.4.0", "isPartOf": "demo"}))
        originals = []
        for k, (url, content_type, body) in enumerate(pages):
            date = f"2024-03-01T10:{k // 60:02d}:{k % 60:02d}Z"
            http = StatusAndHeaders("200 OK", [("Content-Type", content_type or "text/html"), ("Content-Encoding", "gzip"),
                                               ("Transfer-Encoding", "chunked"), ("Vary", "Accept-Encoding")],
                                    protocol="HTTP/1.1")
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(_chunked(gzip.compress(body))),
                                                 http_headers=http, warc_headers_dict={"WARC-Date": date})
            writer.write_record(response)
            concurrent = {"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")}
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), warc_headers_dict=concurrent,
                http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True))
            writer.write_record(request)
            writer.write_record(writer.create_warc_record(url, "metadata", payload=io.BytesIO(b"via: \r\nhopsFromSeed: L\r\n"),
                                                          warc_content_type="application/warc-fields",
                                                          warc_headers_dict=dict(concurrent)))
            originals.append((url, date, http, response.rec_headers.get_header("WARC-Payload-Digest")))
        for url, date, http, digest in originals:  # the second crawl: nothing changed
            revisit = writer.create_revisit_record(url, digest=digest, refers_to_uri=url, refers_to_date=date,
                                                   http_headers=http, warc_headers_dict={"WARC-Date": "2024-03-08T10:00:00Z"})
            writer.write_record(revisit)


def test_a_heritrix_or_browsertrix_warc_imports_like_a_crawl(demo_crawl, demo_pages, tmp_path):
    warc = tmp_path / "crawl-20240301.warc.gz"
    _heritrix_warc(warc, [*demo_pages, *english_pages(5)])
    db_path = tmp_path / "archive.db"
    result = arshif_import(str(warc), "--db", str(db_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_snapshot(Database(db_path)) == archive_snapshot(demo_crawl.db)
    counts = json.loads(next(Database(db_path).query("SELECT import_files FROM crawls"))["import_files"])[0]["counts"]
    pages = len(demo_pages) + 5
    html = sum(1 for _, content_type, _ in demo_pages if "html" in (content_type or "")) + 5
    assert counts["revisit_resolved"] == html, counts  # a revisit of a feed or sitemap is no page: not looked up
    assert counts["already_imported"] == html - 5 and counts["revisit_unresolved"] == pages - html, counts
    assert counts["request_records"] == counts["metadata_records"] == pages and counts["warcinfo_records"] == 1
    assert not {k for k in counts if k in ("damaged", "wrong_length", "not_http")}, counts


def test_a_disk_that_fills_up_mid_import_fails_it_and_the_rerun_equals_a_clean_import(tmp_path):
    """ENOSPC in the WARC copy or the database commit, wherever it lands first: exit 1, the run `failed` with the
    cause (the lock file's reserve makes room for that row), an intact archive, and the same command on a disk with
    room gives what a clean import gives."""
    from tests.test_write_failures import _check

    warc = tmp_path / "big.warc.gz"
    cc_news.write_cc_news(warc, arabic=180, other=120, seed=5)
    run = run_on_small_disk(tmp_path, ["import", str(warc), *IMPORT_ARGS], "3m")
    result, stderr = {"code": run.code}, run.stderr
    assert run.code == 1, (result, stderr[-3000:])
    assert "No space left on device" in stderr or "database or disk is full" in stderr, stderr[-3000:]
    assert "Traceback" not in stderr
    db_path = run.saved / "archive.db"
    row = next(Database(db_path).query("SELECT * FROM crawls ORDER BY id DESC LIMIT 1"))
    assert row["status"] == "failed" and row["error"], row
    _check(db_path)
    again = arshif_import(str(warc), "--db", str(db_path), "-s", UNIT)
    assert again.returncode == 0, again.stderr[-3000:]
    clean = tmp_path / "clean" / "archive.db"
    assert arshif_import(str(warc), "--db", str(clean), "-s", UNIT).returncode == 0
    _check(db_path)
    assert archive_snapshot(Database(db_path)) == archive_snapshot(Database(clean))
    _assert_indexes_whole(run.saved / "warc")  # an index the full disk cut is written whole by the rerun
