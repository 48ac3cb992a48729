"""Keep every page: WARC files, offline re-extraction, incremental runs, resume, lock."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.request

from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.server import DEMO_SITE, SiteServer
from pipelines.archive.database import open_archive
from pipelines.archive.lock import ArchiveLock
from pipelines.archive.warc import cdxj_path, iter_responses
from tests.conftest import PROJECT_DIR, crawl, run_arshif
from tests.gated_site import gate_requests, wait_until

NEW_ARTICLE = """<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>افتتاح جسر جديد يربط ضفتي النهر في المدينة - أخبار الرافدين</title></head>
<body><div class="hdr"><a href="/">الرئيسية</a></div>
<div class="ttl"><h2>افتتاح جسر جديد يربط ضفتي النهر في المدينة</h2></div>
<div class="inf"><span class="au">هدى سلمان</span> <span class="pd">الخميس 5 حزيران / يونيو 2025</span></div>
<div class="nw">
<p>افتتحت أمانة المدينة صباح اليوم جسراً جديداً للمشاة والسيارات يربط ضفتي النهر، بعد أعمال استمرت ثلاث سنوات وشارك فيها مئات المهندسين والعمال من الشركات المحلية.</p>
<p>وقال أمين المدينة في حفل الافتتاح إن الجسر سيخفف الزحام عن الجسور القديمة بنسبة كبيرة، وسيختصر زمن التنقل بين الأحياء الشرقية والغربية إلى دقائق معدودة في ساعات الذروة.</p>
<p>وأضاف أن تصميم الجسر راعى الطابع العمراني للمدينة، إذ زُيّن بأقواس مستوحاة من العمارة التقليدية وأنارته مصابيح تعمل بالطاقة الشمسية، مع ممرات مخصصة للدراجات الهوائية.</p>
<p>ورحب سكان المنطقة بالمشروع، وأعرب أصحاب المحال التجارية القريبة عن أملهم في أن ينعش الجسر الحركة الاقتصادية في الأسواق الواقعة على ضفتي النهر خلال الأشهر المقبلة.</p>
</div></body></html>
"""


def _copy_site(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    return site


def _served(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:
        return response.read()


def test_warc_records_read_back_and_match_served_bytes(demo_crawl, demo_site):
    warc_dir = demo_crawl.db_path.parent / "warc"
    files = sorted(warc_dir.glob("*.warc.gz"))
    assert files
    responses = 0
    for path in files:
        with open(path, "rb") as stream:
            types = [record.rec_type for record in ArchiveIterator(stream)]
        assert types[0] == "warcinfo" and "request" in types
        assert path.with_name(path.name.replace(".warc.gz", ".cdxj")).is_file()
    for stored in iter_responses(warc_dir):
        responses += 1
        if stored.status == 200:
            assert stored.body == _served(stored.url), stored.url
    assert responses == demo_crawl.last_crawl()["pages_fetched"]


def test_every_row_points_at_its_warc_record(demo_crawl):
    warc_dir = demo_crawl.db_path.parent / "warc"
    rows = [*demo_crawl.db.query("SELECT url, warc_file, warc_offset, warc_length FROM articles"),
            *demo_crawl.db.query("SELECT url, warc_file, warc_offset, warc_length FROM duplicates")]
    assert rows
    for row in rows:
        with open(warc_dir / row["warc_file"], "rb") as stream:
            stream.seek(row["warc_offset"])
            record = gzip.decompress(stream.read(row["warc_length"]))
        assert f"WARC-Target-URI: {row['url']}".encode() in record
        assert b"WARC-Type: response" in record


def test_reextract_equals_the_crawl(demo_crawl, tmp_path):
    rebuilt = tmp_path / "rebuilt.db"
    result = run_arshif("reextract", "--db", str(demo_crawl.db_path), "--into", str(rebuilt))
    assert result.returncode == 0, result.stderr
    assert "docs/s" in result.stdout
    columns = "url, canonical_url, title, text, author, published, language, content_hash"
    query = f"SELECT {columns} FROM articles ORDER BY url"
    assert list(Database(rebuilt).query(query)) == list(demo_crawl.db.query(query))
    dup_query = "SELECT d.url, d.kind, a.url AS original FROM duplicates d JOIN articles a ON a.id = d.duplicate_of ORDER BY d.url"
    assert list(Database(rebuilt).query(dup_query)) == list(demo_crawl.db.query(dup_query))


def test_reextract_replaces_tables_in_place(demo_crawl, tmp_path):
    db_path = tmp_path / "archive.db"
    with sqlite3.connect(demo_crawl.db_path) as source, sqlite3.connect(db_path) as copy:
        source.backup(copy)
    shutil.copytree(demo_crawl.db_path.parent / "warc", tmp_path / "warc")
    archive = open_archive(db_path)  # registers the search function the FTS triggers call
    with archive.conn:
        archive.execute("UPDATE articles SET text = 'stale' WHERE id = (SELECT MIN(id) FROM articles)")
    archive.close()
    result = run_arshif("reextract", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    db = Database(db_path)
    assert db["articles"].count == demo_crawl.db["articles"].count
    assert not list(db.query("SELECT id FROM articles WHERE text = 'stale'"))
    assert db["crawls"].count == demo_crawl.db["crawls"].count  # run history kept


def test_second_run_fetches_no_known_article_and_finds_new_ones(tmp_path):
    site = _copy_site(tmp_path)
    db_path = tmp_path / "archive.db"
    with SiteServer(site) as server:
        first = crawl("demo", db_path, server.origin)
        assert first.returncode == 0, first.stderr[-2000:]
        requests_first = first.last_crawl()["stats"]["downloader/request_count"]
        # a new article appears, linked from the home page
        (site / "articles" / "1017.html").write_text(NEW_ARTICLE, encoding="utf-8")
        index = (site / "index.html").read_text(encoding="utf-8")
        (site / "index.html").write_text(index.replace("</body>", '<a href="/articles/1017.html">جسر</a></body>'), encoding="utf-8")
        second = crawl("demo", db_path, server.origin)
    assert second.returncode == 0, second.stderr[-2000:]
    row = second.last_crawl()
    stats = row["stats"]
    fetched = [r["url"] for r in second.db.query("SELECT url FROM pages WHERE crawl_id = ?", [row["id"]])]
    article_fetches = [u for u in fetched if "/articles/" in u]
    assert article_fetches == [f"{server.origin}/articles/1017.html"]
    assert row["stored"] == 1
    # only the changed home page and the new article were downloaded; the rest answered 304
    assert len(fetched) <= 3, fetched
    assert stats["downloader/response_count"] < requests_first / 2
    assert stats["downloader/response_status_count/304"] >= 4
    assert row["skipped_archived"] > 10 and row["not_modified"] >= 2
    assert second.db["articles"].count == first.db["articles"].count


def test_refresh_downloads_archived_articles_again(tmp_path, demo_site):
    db_path = tmp_path / "archive.db"
    assert crawl("demo", db_path, demo_site.origin).returncode == 0
    again = crawl("demo", db_path, demo_site.origin, "--refresh")
    assert again.returncode == 0
    row = again.last_crawl()
    assert row["skipped_archived"] == 0 and row["already_archived"] >= 13 and row["stored"] == 0


def test_lock_refuses_a_second_run(tmp_path, demo_site):
    db_path = tmp_path / "archive.db"
    with ArchiveLock(db_path):
        result = crawl("demo", db_path, demo_site.origin)
    assert result.returncode == 3
    assert "another Arshif run" in result.stderr and str(db_path) in result.stderr
    assert not db_path.exists() or Database(db_path)["articles"].count == 0


def _committed_articles(db_path) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not made yet, or busy
        return 0


def _story_keys(db: Database) -> tuple[set, list]:
    hashes = {r["content_hash"] for r in db.query("SELECT content_hash FROM articles")}
    urls = [r["url"] for r in db.query("SELECT url FROM articles UNION ALL SELECT url FROM duplicates")]
    return hashes, sorted(urls)


def test_killed_crawl_resumes_to_the_same_archive(tmp_path):
    site = _copy_site(tmp_path)
    clean_db, killed_db = tmp_path / "clean.db", tmp_path / "killed.db"
    with SiteServer(site) as server:
        assert crawl("demo", clean_db, server.origin).returncode == 0
        # the site answers 12 of its 18 article pages (at least 7 articles, in batches of 2), then holds the others:
        # the kill comes after 3 articles are committed and before the crawl can go further or end, however
        # loaded the machine is (it was a guessed time: too late on a fast machine, too early on a slow one)
        with gate_requests(server, 12, gated=lambda path: path.startswith("/articles/")) as gate:
            process = subprocess.Popen(
                [sys.executable, "-m", "crawler.cli.main", "crawl", "demo", "--db", str(killed_db), "--base-url",
                 server.origin, "--local", "-s", "ARSHIF_BATCH_SIZE=2", "-s", "CONCURRENT_REQUESTS=2"],
                cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            gate.wait_held()
            wait_until(lambda: _committed_articles(killed_db) >= 3 or process.poll() is not None,
                       "3 articles committed by the crawl held at the gate")
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        partial = Database(killed_db)["articles"].count
        assert 3 <= partial < Database(clean_db)["articles"].count, "the kill came too late to test resuming"
        warc_dir = tmp_path / "warc"
        assert [p for p in warc_dir.glob("*.warc.gz") if not cdxj_path(p).exists()], "the killed run's file has no index yet"
        assert Database(killed_db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        resumed = crawl("demo", killed_db, server.origin)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    clean_hashes, clean_urls = _story_keys(Database(clean_db))
    resumed_hashes, resumed_urls = _story_keys(Database(killed_db))
    assert resumed_hashes == clean_hashes
    assert resumed_urls == clean_urls  # every URL once, nothing lost
    statuses = [r["status"] for r in Database(killed_db).query("SELECT status FROM crawls ORDER BY id")]
    assert statuses == ["killed", "finished"]
    assert all(cdxj_path(p).exists() for p in warc_dir.glob("*.warc.gz"))  # the next run indexed it


def test_warc_files_rotate_at_the_configured_size(tmp_path):
    from pipelines.archive.warc import WarcWriter

    writer = WarcWriter(tmp_path, max_size=2000)
    for number in range(4):
        body = f"<html><body><p>خبر رقم {number}</p>{random.Random(number).randbytes(3000).hex()}</body></html>".encode()
        writer.write_exchange(f"http://news.test/{number}.html", "200 OK", [("Content-Type", "text/html")], body)
    writer.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) == 4  # each file passed 2,000 bytes after one exchange
    for path in files:
        with open(path, "rb") as stream:
            types = [record.rec_type for record in ArchiveIterator(stream)]
        assert types == ["warcinfo", "response", "request"]
    assert [s.url for s in iter_responses(tmp_path)] == [f"http://news.test/{n}.html" for n in range(4)]


def test_warc_gzip_level_changes_size_not_content(tmp_path):
    """Each record stays its own gzip member at any level; a higher level only makes it smaller."""
    from pipelines.archive.warc import WarcWriter

    body = (DEMO_SITE / "index.html").read_bytes() * 3
    sizes = {}
    for level in (1, 9):
        folder = tmp_path / str(level)
        writer = WarcWriter(folder, gzip_level=level)
        ref = writer.write_exchange("http://news.test/a.html", "200 OK", [("Content-Type", "text/html")], body)
        writer.close()
        (path,) = folder.glob("*.warc.gz")
        with open(path, "rb") as stream:
            stream.seek(ref.offset)
            member = stream.read(ref.length)
        assert b"WARC-Type: response" in gzip.decompress(member)[:200]  # (offset, length) is one whole member
        with open(path, "rb") as stream:
            payloads = [r.content_stream().read() for r in ArchiveIterator(stream) if r.rec_type == "response"]
        assert payloads == [body]
        sizes[level] = ref.length
    assert sizes[9] < sizes[1]


def test_cdxj_index_written_while_crawling_equals_cdxj_indexers(tmp_path):
    """Each file's index is built from the records as written, and must be what cdxj-indexer
    reads off the finished file: responses with and without a content type, a revisit, rotation."""
    import base64
    import hashlib

    from cdxj_indexer.main import write_cdx_index

    from pipelines.archive.warc import WarcWriter, cdxj_path

    writer = WarcWriter(tmp_path, max_size=9000)
    refs = []
    for number in range(6):
        body = f"<html><body><p>خبر رقم {number}</p>{random.Random(number).randbytes(1500).hex()}</body></html>".encode()
        headers = [("Content-Type", "text/html; charset=windows-1256")] if number % 3 else []
        refs.append((body, writer.write_exchange(f"http://news.test/ar/{number}.html?id={number}", "200 OK", headers, body)))
    original = refs[0][1]
    refs.append((b"", writer.write_exchange(
        "http://news.test/ar/0.html?id=0", "304 Not Modified", [], b"",
        revisit_of=("http://news.test/ar/0.html?id=0", original.date, original.digest),
    )))
    writer.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 2  # rotated
    for path in files:
        reference = tmp_path / (path.name + ".reference")
        with open(reference, "w", encoding="utf-8") as out:
            write_cdx_index(out, [str(path)], {"sort": True})
        ours = cdxj_path(path).read_text(encoding="utf-8")
        assert ours and ours == reference.read_text(encoding="utf-8")
    lines = "".join(cdxj_path(path).read_text(encoding="utf-8") for path in files)
    assert lines.count('"mime": "warc/revisit"') == 1 and lines.count('"mime": "text/html"') == 4
    for body, ref in refs[:-1]:
        assert ref.digest == "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()
        assert f'"digest": "{ref.digest}", "length": "{ref.length}", "offset": "{ref.offset}"' in lines


def test_a_warc_file_left_open_by_a_kill_is_indexed_up_to_its_broken_record(tmp_path, caplog):
    """A crawl killed mid-way leaves its WARC file without a CDXJ index, and maybe a record cut short."""
    from cdxj_indexer.main import write_cdx_index

    from pipelines.archive.warc import WarcWriter, index_unindexed

    writer = WarcWriter(tmp_path)
    for number in range(4):
        body = f"<html><body><p>خبر رقم {number}</p>{random.Random(number).randbytes(2000).hex()}</body></html>".encode()
        last = writer.write_exchange(f"http://news.test/{number}.html", "200 OK", [("Content-Type", "text/html")], body)
    # killed here: the file stays open and unindexed
    (path,) = tmp_path.glob("*.warc.gz")
    complete = path.read_bytes()
    assert index_unindexed(tmp_path) == [path]
    reference = tmp_path / "reference.cdxj"
    with open(reference, "w", encoding="utf-8") as out:
        write_cdx_index(out, [str(path)], {"sort": True})
    assert cdxj_path(path).read_text(encoding="utf-8") == reference.read_text(encoding="utf-8")
    assert index_unindexed(tmp_path) == []  # indexed files are left alone

    cdxj_path(path).unlink()
    path.write_bytes(complete[: last.offset + last.length // 2])  # the kill cut the last response short
    with caplog.at_level("WARNING", logger="pipelines.archive.warc"):
        assert index_unindexed(tmp_path) == [path]
    lines = cdxj_path(path).read_text(encoding="utf-8").splitlines()
    assert sorted(line.split('"url": "')[1].split('"')[0] for line in lines) == [f"http://news.test/{n}.html" for n in range(3)]
    assert "broken record" in caplog.text
    writer.close()


def _refreshing_page(target: str) -> str:
    return (f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={target}"><title>نُقل الخبر</title></head>'
            f'<body><p>نُقل هذا الخبر إلى <a href="{target}">صفحته الجديدة</a>.</p></body></html>')


def test_article_records_are_built_by_the_worker_and_pages_extraction_never_sees_are_kept(tmp_path):
    """Article pages' WARC records come from the extraction worker; a page that a meta refresh
    turns into another request never reaches extraction, and is archived all the same."""
    site = _copy_site(tmp_path)
    (site / "articles" / "1017.html").write_text(_refreshing_page("/articles/1001.html"), encoding="utf-8")  # already linked
    (site / "articles" / "1018.html").write_text(_refreshing_page("/articles/1019.html"), encoding="utf-8")  # new
    (site / "articles" / "1019.html").write_text(NEW_ARTICLE, encoding="utf-8")
    index = (site / "index.html").read_text(encoding="utf-8")
    links = '<a href="/articles/1017.html">خبر</a> <a href="/articles/1018.html">جسر</a>'
    (site / "index.html").write_text(index.replace("</body>", links + "</body>"), encoding="utf-8")
    db_path = tmp_path / "archive.db"
    with SiteServer(site) as server:
        # pool slots for every page: extraction never falls behind, so no page is left to the WARC thread
        run = crawl("demo", db_path, server.origin, "-s", "ARSHIF_EXTRACT_IN_FLIGHT=1000")
        assert run.returncode == 0, run.stderr[-2000:]
        stored = list(iter_responses(tmp_path / "warc"))
        by_url = {response.url: response for response in stored}
        for name in ("1017", "1018", "1019"):
            url = f"{server.origin}/articles/{name}.html"
            assert by_url[url].status == 200 and by_url[url].body == _served(url), url
    row = run.last_crawl()
    assert len(stored) == row["pages_fetched"]  # every response
    assert sum(1 for r in stored if "/articles/10" in r.url and r.url.endswith(("1017.html", "1018.html", "1019.html"))) == 3
    article_pages = [r for r in stored if r.role == "article" and r.status == 200]
    # all but the two refreshing pages went through extraction, which built their records
    assert row["stats"]["arshif/warc_built_in_workers"] == len(article_pages) - 2
    assert Database(db_path).execute("SELECT COUNT(*) FROM articles WHERE url LIKE '%/1019.html'").fetchone()[0] == 1


def test_unclaimed_article_pages_beyond_the_cap_go_to_the_warc_thread(tmp_path):
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import ROLE, WARC_REF, PendingWarc, WarcMiddleware
    from pipelines.archive.warc import build_exchange

    middleware = WarcMiddleware(get_crawler(), str(tmp_path / "warc"), max_size=10**8)
    middleware.MAX_UNCLAIMED_BYTES = 3500
    body = "<html><body><p>نص</p></body></html>".encode() * 30  # ~1 KB
    pendings = []
    for number in range(5):
        request = Request(f"https://example.com/news/{number}", meta={ROLE: "article"})
        response = HtmlResponse(request.url, body=body, request=request)
        middleware.process_response(request, response)
        pendings.append(request.meta[WARC_REF])
    assert all(isinstance(pending, PendingWarc) for pending in pendings)
    middleware.thread.submit(lambda: None).result()  # the thread has done what it was given
    # 5 KB held against a 3.5 KB cap: the two oldest were written by the thread, the others wait
    assert [pending.ready() for pending in pendings] == [True, True, False, False, False]
    exchange = pendings[2].claim(body)
    assert exchange is not None and "body" not in exchange  # extraction's body is the same bytes
    assert pendings[2].claim(body) is None  # claimed once
    pendings[2].write_now()  # claimed: extraction will write it, not the thread
    assert not pendings[2].ready()
    pendings[2].complete(None)  # the worker failed: the thread writes it
    # Scrapy decompressed the page for extraction: the worker gets the bytes as received
    raw = pendings[3].claim(b"<html>decompressed</html>")
    assert raw["body"] is body
    pendings[3].complete(build_exchange(**raw))  # as the worker builds it
    middleware.spider_closed(None)  # writes the one never claimed
    assert all(pending.ready() for pending in pendings)
    written = {response.url: response for response in iter_responses(tmp_path / "warc")}
    assert sorted(written) == [f"https://example.com/news/{number}" for number in range(5)]
    assert all(written[url].body == body for url in written)
    assert [pending["warc_offset"] for pending in pendings] == [written[url].ref.offset for url in sorted(written)]
