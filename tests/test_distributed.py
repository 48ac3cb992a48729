"""A cluster crawl: `arshif crawl --redis` workers as separate processes, one real redis-server, `arshif merge`.

Workers crawl a slow copy of the demo site (so they overlap) into shards in
their own folders, as on separate machines; the merged archive must equal a
single-worker crawl of the same site, with no page fetched twice and, when a
worker is killed with SIGKILL, nothing lost.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler.demo.server import DEMO_SITE, SiteServer
from pipelines.archive.lock import ArchiveLock
from pipelines.archive.database import insert_rows, open_archive, start_crawl
from pipelines.archive.warc import iter_responses
from tests.conftest import PROJECT_DIR, archive_snapshot, crawl, run_arshif

DELAY = 0.3  # seconds per request: each worker holds CONCURRENT_REQUESTS=2, so the workers overlap
WORKER_SETTINGS = ("-s", "CONCURRENT_REQUESTS=2", "-s", "ARSHIF_REDIS_WORKER_TIMEOUT=2", "-s", "ARSHIF_EXTRACT_WORKERS=1")
# Where no worker is killed, no heartbeat has to expire: a live worker that a loaded machine stalls for 2 s must
# not be taken for dead (its requests would be fetched twice, and "each page once" fail)
NONE_KILLED = ("-s", "ARSHIF_REDIS_WORKER_TIMEOUT=120")


# -- a real Redis and a slow site ---------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install -y redis-server); "
                    "the cluster tests need a real Redis")
    pytest.importorskip("scrapy_redis", reason="scrapy-redis is not installed: pip install -e '.[cluster]'")
    redis = pytest.importorskip("redis")

    folder = tmp_path_factory.mktemp("redis")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 300  # a hang guard: it fails at once if redis-server exits
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def slow_site():
    with SiteServer(DEMO_SITE, delay=DELAY) as site:
        yield site


@pytest.fixture(scope="module")
def single(slow_site, tmp_path_factory):
    """The reference: one ordinary worker, no Redis, over the same origin."""
    db_path = tmp_path_factory.mktemp("single") / "archive.db"
    slow_site.httpd.RequestHandlerClass.delay = 0
    try:
        run = crawl("demo", db_path, slow_site.origin)
    finally:
        slow_site.httpd.RequestHandlerClass.delay = DELAY
    assert run.returncode == 0, run.stderr[-3000:]
    return db_path


def _worker(redis: str, run: str, db_path: Path, origin: str, *extra: str) -> subprocess.Popen:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with open(db_path.with_suffix(".log"), "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler.cli.main", "crawl", "demo", "--db", str(db_path), "--base-url", origin, "--local",
             "--redis", redis, "--run", run, "--log-level", "INFO", *WORKER_SETTINGS, *extra],
            cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT,
        )


def _shards(tmp_path: Path, count: int) -> list[Path]:
    """One folder per worker, as on separate machines: the shard and its warc/ beside it."""
    return [tmp_path / f"worker-{n}" / f"shard-{n}.db" for n in range(1, count + 1)]


def _wait(processes, timeout: float = 600) -> None:
    for process in processes:
        process.wait(timeout=timeout)


def _log(db_path: Path) -> str:
    return db_path.with_suffix(".log").read_text(errors="replace")[-3000:]


def _rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(sql).fetchall()


def _result(db_path: Path) -> dict:
    """What must not depend on how many workers crawled: articles (URL, content) and duplicates."""
    return {
        "articles": sorted(_rows(db_path, "SELECT url, content_hash FROM articles")),
        "duplicates": sorted(_rows(db_path, "SELECT d.url, a.url, d.kind FROM duplicates d JOIN articles a ON a.id = d.duplicate_of")),
    }


def _fetched(db_path: Path) -> list[str]:
    """URLs whose responses the worker wrote to WARC, robots.txt aside (every worker reads it itself)."""
    urls = []
    try:
        for response in iter_responses(db_path.parent / "warc"):
            if not response.url.endswith("/robots.txt"):
                urls.append(response.url)
    except Exception:  # a worker killed in the middle of a record leaves it truncated
        pass
    return urls


def _merge(shards: list[Path], target: Path) -> subprocess.CompletedProcess:
    result = run_arshif("merge", *map(str, shards), "--into", str(target))
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _dump(db_path: Path) -> dict:
    return {table: sorted(_rows(db_path, f"SELECT * FROM {table}"), key=repr)
            for table in ("articles", "duplicates", "crawls", "pages", "articles_fts")}


# -- the cluster ------------------------------------------------------------------------------


def test_three_workers_fetch_each_page_once_and_merge_to_the_single_crawl(redis_url, slow_site, single, tmp_path):
    import redis

    shards = _shards(tmp_path, 3)
    workers = [_worker(redis_url, "three", shard, slow_site.origin, "--redis-ttl", "600", *NONE_KILLED) for shard in shards]
    _wait(workers)
    for worker, shard in zip(workers, shards):
        assert worker.returncode == 0, _log(shard)
        stats = json.loads(_rows(shard, "SELECT stats FROM crawls")[0][0])
        assert stats["cluster/run"] == "arshif:demo:three"
        if stats.get("scheduler/dequeued/redis"):  # requests are released while the crawl runs, not only at the end
            assert stats.get("cluster/requests_released", 0) > 0

    # every article once across the shards, every page fetched once
    stored = [url for shard in shards for (url,) in _rows(shard, "SELECT url FROM articles")]
    assert len(stored) == len(set(stored))
    fetched = [url for shard in shards for url in _fetched(shard)]
    assert len(fetched) == len(set(fetched)), sorted(url for url in fetched if fetched.count(url) > 1)
    pages = [url for shard in shards for (url,) in _rows(shard, "SELECT url FROM pages WHERE url NOT LIKE '%/robots.txt'")]
    assert len(pages) == len(set(pages))
    assert sum(1 for shard in shards if _fetched(shard)) >= 2, "the workers did not share the crawl"

    # the run's keys are namespaced and expire
    client = redis.Redis.from_url(redis_url)
    keys = {key.decode() for key in client.keys("*")}
    assert all(key.startswith("arshif:demo:") for key in keys)
    assert {key for key in keys if "three" in key} == {"arshif:demo:three:seen", "arshif:demo:three:finished"}
    assert 0 < client.ttl("arshif:demo:three:seen") <= 600
    assert client.exists("arshif:demo:three:finished")

    merged = tmp_path / "merged" / "archive.db"
    _merge(shards, merged)
    assert _result(merged) == _result(single)
    assert _rows(merged, "SELECT COUNT(*) FROM articles_fts") == _rows(merged, "SELECT COUNT(*) FROM articles")
    assert len(_rows(merged, "SELECT * FROM crawls")) == 3
    warc_files = {name for (name,) in _rows(merged, "SELECT DISTINCT warc_file FROM articles")}
    assert all((merged.parent / "warc" / name).is_file() for name in warc_files)

    before = _dump(merged)
    again = _merge(shards, merged)
    assert _dump(merged) == before, "merging twice added something"
    assert "0 crawls added" in again.stdout and "0 added" in again.stdout

    # a worker joining a finished run fetches nothing and says so
    late = _shards(tmp_path, 4)[3]
    joined = _worker(redis_url, "three", late, slow_site.origin)
    _wait([joined])
    assert joined.returncode == 0, _log(late)
    assert "nothing is left to crawl" in _log(late) and not _fetched(late)


def test_a_worker_killed_mid_crawl_loses_nothing(redis_url, slow_site, single, tmp_path):
    """SIGKILL one of two workers: its unfinished requests go back to the queue when its heartbeat expires."""
    import redis

    client = redis.Redis.from_url(redis_url)
    shards = _shards(tmp_path, 2)
    victim, survivor = (_worker(redis_url, "kill", shard, slow_site.origin) for shard in shards)
    _wait_for_claims(client, "arshif:demo:kill", victim.pid)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    in_flight = _claims(client, "arshif:demo:kill", victim.pid)  # what it held when it died
    _wait([survivor])
    assert survivor.returncode == 0, _log(shards[1])
    requeued = re.search(r"(\d+) requests of stopped workers requeued", _log(shards[1]))
    assert int(requeued.group(1)) == len(in_flight)

    merged = tmp_path / "merged.db"
    _merge(shards, merged)
    assert _result(merged) == _result(single)
    # at least once, not at random: only what the killed worker held unfinished was fetched again
    fetched = [url for shard in shards for url in _fetched(shard)]
    again = {url for url in fetched if fetched.count(url) > 1}
    assert again <= set(in_flight)
    assert _rows(merged, "SELECT status FROM crawls ORDER BY id") == [("killed",), ("finished",)]


def test_the_only_worker_killed_then_restarted_finishes_the_run(redis_url, slow_site, single, tmp_path):
    import redis

    client = redis.Redis.from_url(redis_url)
    (shard,) = _shards(tmp_path, 1)
    first = _worker(redis_url, "restart", shard, slow_site.origin)
    _wait_for_claims(client, "arshif:demo:restart", first.pid)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    second = _worker(redis_url, "restart", shard, slow_site.origin)  # same run, same shard
    _wait([second])
    assert second.returncode == 0, _log(shard)
    assert _rows(shard, "SELECT status FROM crawls ORDER BY id") == [("killed",), ("finished",)]
    merged = tmp_path / "merged.db"
    _merge([shard], merged)
    assert _result(merged) == _result(single)


def test_bloom_filter_seen_set(redis_url, slow_site, single, tmp_path):
    import redis

    shards = _shards(tmp_path, 2)
    workers = [_worker(redis_url, "bloom", shard, slow_site.origin, "--redis-bloom", "100000", *NONE_KILLED)
               for shard in shards]
    _wait(workers)
    for worker, shard in zip(workers, shards):
        assert worker.returncode == 0, _log(shard)
    client = redis.Redis.from_url(redis_url)
    assert client.type("arshif:demo:bloom:seen") == b"string"
    assert client.strlen("arshif:demo:bloom:seen") <= 100000 * 29 // 8 + 1  # ~3.6 MB per million URLs
    fetched = [url for shard in shards for url in _fetched(shard)]
    assert len(fetched) == len(set(fetched))
    merged = tmp_path / "merged.db"
    _merge(shards, merged)
    assert _result(merged) == _result(single)


def _claims(client, prefix: str, pid: int) -> list[str]:
    """The URLs of the requests the worker with this pid has taken and not finished."""
    for worker in client.smembers(f"{prefix}:workers"):
        if f"-{pid}-" in worker.decode():
            held = client.hvals(f"{prefix}:processing:{worker.decode()}")
            return [json.loads(entry.split(b"|", 1)[1])["url"] for entry in held]
    return []


def _wait_for_claims(client, prefix: str, pid: int, timeout: float = 300) -> None:
    """Wait until the worker is in the middle of the crawl: it holds at least two requests."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_claims(client, prefix, pid)) >= 2:
            return
        time.sleep(0.02)
    pytest.fail(f"worker {pid} never took a request")


# -- merge, on shards written by hand ---------------------------------------------------------

TEXT = ("وقال مستشار الأمن الوطني في كلمته الافتتاحية إن الإرهاب لم يعد تهديداً محلياً يمكن لدولة واحدة أن تواجهه "
        "بمفردها، بل أصبح خطراً عابراً للحدود يتطلب تنسيقاً مستمراً وتبادلاً سريعاً للمعلومات بين الأجهزة المختصة. "
        "ويناقش المؤتمر على مدى يومين ثلاثة محاور رئيسية، أولها ضبط الحدود المشتركة ومنع تسلل المقاتلين الأجانب، "
        "وثانيها مراقبة التحويلات المالية المشبوهة، وثالثها مواجهة الخطاب المتطرف على منصات التواصل الاجتماعي.")
OTHER = ("ثبّت البنك المركزي سعر الفائدة الرئيسي عند مستواه الحالي للاجتماع الثالث على التوالي، مشيراً إلى أن "
         "معدلات التضخم بدأت تتراجع تدريجياً بعد موجة ارتفاع الأسعار التي شهدتها الأسواق خلال العام الماضي، "
         "وتوقع المحافظ أن يستمر هذا التراجع خلال الربع الثاني مع استقرار سعر الصرف وتحسن الإيرادات النفطية.")


def _article(url: str, text: str, published: str, fetched_at: str) -> dict:
    from pipelines.similarity.fingerprints import content_hash

    return {"url": url, "canonical_url": url, "source": "demo", "title": text[:40], "published": published,
            "fetched_at": fetched_at, "language": "ar", "text": text, "word_count": len(text.split()),
            "content_hash": content_hash(text)}


def _shard(path: Path, articles: list[dict], duplicates: list[dict] = ()) -> Path:
    db = open_archive(path)
    crawl_id = start_crawl(db, "demo")
    for number, row in enumerate(articles, start=1):
        row.update(id=number, crawl_id=crawl_id)
    insert_rows(db, articles, [{**row, "crawl_id": crawl_id} for row in duplicates])
    db.execute("UPDATE crawls SET status = 'finished'")
    db.conn.commit()
    db.close()
    return path


def _two_shards(folder: Path, seconds=(0, 1, 5, 6, 7)) -> tuple[Path, Path]:
    """An exact copy and its original, a near copy and another story, in two shards fetched at these seconds."""
    near = TEXT.replace("ثلاثة محاور رئيسية", "ثلاثة محاور أساسية") + " وأكد المشاركون أهمية التنسيق."
    at = [f"2025-03-12T10:00:{second:02d}+00:00" for second in seconds]
    folder.mkdir(exist_ok=True)
    first = _shard(folder / "shard-1.db", [
        _article("http://x/republished", TEXT, "2025-03-10", at[0]),
        _article("http://x/other", OTHER, "2025-03-11", at[1]),
    ])
    second = _shard(folder / "shard-2.db", [
        _article("http://x/wire", TEXT, "2025-03-09", at[2]),  # the original, fetched later
        _article("http://x/near", near, "2025-03-11", at[3]),
    ], duplicates=[{"url": "http://x/wire?amp", "canonical_url": "http://x/wire", "source": "demo",
                    "fetched_at": at[4], "duplicate_of": 1, "similarity": 1.0, "kind": "url"}])
    return first, second


def test_merge_catches_copies_across_shards_and_remaps_duplicates(tmp_path):
    first, second = _two_shards(tmp_path)
    merged = tmp_path / "archive.db"
    _merge([first, second], merged)

    articles = dict(_rows(merged, "SELECT url, id FROM articles"))
    # the earlier publication of the exact copies is the article; the near copy is stored, in its story
    assert set(articles) == {"http://x/wire", "http://x/other", "http://x/near"}
    stories = dict(_rows(merged, "SELECT url, story_id FROM articles"))
    assert stories["http://x/near"] == stories["http://x/wire"] != stories["http://x/other"]
    assert _rows(merged, "SELECT original_id, members FROM stories WHERE members > 1") == [(articles["http://x/wire"], 2)]
    duplicates = {url: (original, kind) for url, original, kind in
                  _rows(merged, "SELECT d.url, a.url, d.kind FROM duplicates d JOIN articles a ON a.id = d.duplicate_of")}
    assert duplicates == {
        "http://x/republished": ("http://x/wire", "exact"),
        "http://x/wire?amp": ("http://x/wire", "url"),  # remapped to the merged id
    }
    assert _rows(merged, "SELECT COUNT(*) FROM articles_fts") == [(3,)]
    from pipelines.text.search_text import fts_query

    with sqlite3.connect(merged) as connection:
        found = connection.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", [fts_query("البنك المركزي")])
        assert [row[0] for row in found] == [articles["http://x/other"]]
    before = _dump(merged)
    _merge([second, first], merged)
    assert _dump(merged) == before
    # fresh archives: the shards the other way round, and fetched in the opposite order
    _merge([second, first], tmp_path / "reversed.db")
    assert archive_snapshot(Database(tmp_path / "reversed.db")) == archive_snapshot(Database(merged))
    _merge(list(_two_shards(tmp_path / "refetched", seconds=(9, 8, 3, 2, 1))), tmp_path / "refetched.db")
    assert archive_snapshot(Database(tmp_path / "refetched.db")) == archive_snapshot(Database(merged))


def test_merge_keeps_every_text_of_an_edited_article(tmp_path):
    """A page fetched again by a later shard with another text: the merged article shows the latest text, the
    earlier one is a version, like a --refresh crawl; a shard's own versions come along; merging again adds nothing."""
    edited = TEXT + " وأضاف المتحدث في تحديث لاحق أن الاجتماع المقبل سيعقد في الرباط."
    first = _shard(tmp_path / "shard-1.db", [_article("http://x/a", TEXT, "2025-03-10", "2025-03-12T10:00:00+00:00")])
    second = _shard(tmp_path / "shard-2.db", [_article("http://x/a", edited, "2025-03-10", "2025-03-13T10:00:00+00:00"),
                                              _article("http://x/b", OTHER, "2025-03-11", "2025-03-13T10:00:01+00:00")])
    db = open_archive(second)
    db["versions"].insert({"article_id": 2, "fetched_at": "2025-03-12T09:00:00+00:00", "title": "قديم",
                           "text": OTHER[:200], "content_hash": "old-b"})
    db.conn.commit()
    db.close()
    merged = tmp_path / "archive.db"
    result = _merge([first, second], merged)
    assert "1 newer texts of archived articles" in result.stdout and "1 earlier versions carried over" in result.stdout
    articles = {url: (text, fetched) for url, text, fetched in _rows(merged, "SELECT url, text, fetched_at FROM articles")}
    assert articles["http://x/a"] == (edited, "2025-03-13T10:00:00+00:00")
    versions = _rows(merged, "SELECT a.url, v.text, v.fetched_at FROM versions v JOIN articles a ON a.id = v.article_id ORDER BY v.fetched_at")
    assert versions == [("http://x/b", OTHER[:200], "2025-03-12T09:00:00+00:00"),
                        ("http://x/a", TEXT, "2025-03-12T10:00:00+00:00")]
    before = _dump(merged) | {"versions": sorted(_rows(merged, "SELECT * FROM versions"), key=repr)}
    _merge([second, first], merged)
    assert _dump(merged) | {"versions": sorted(_rows(merged, "SELECT * FROM versions"), key=repr)} == before


def test_merge_refuses_a_shard_being_written(tmp_path):
    shard = _shard(tmp_path / "shard-1.db", [_article("http://x/a", TEXT, "2025-03-10", "2025-03-12T10:00:00")])
    with ArchiveLock(shard):
        result = run_arshif("merge", str(shard), "--into", str(tmp_path / "archive.db"))
    assert result.returncode == 3
    assert "shard-1.db" in result.stderr


# -- units --------------------------------------------------------------------------------------


def test_requests_go_to_redis_as_json_and_come_back_whole():
    pytest.importorskip("scrapy_redis")
    from scrapy.utils.request import request_from_dict

    from crawler.cluster import JsonSerializer
    from crawler.spiders.news import NewsSpider

    spider = NewsSpider(source="demo")
    request = spider._request("http://127.0.0.1:1/articles/1.html", spider.parse_article, "sitemap", {"title": "عنوان"})
    request.headers["If-None-Match"] = '"abc"'
    request.meta["arshif_previous"] = ("http://127.0.0.1:1/articles/1.html", "2025-01-01T00:00:00Z", "sha1:X")
    data = JsonSerializer.dumps(request.to_dict(spider=spider))
    assert "pickle" not in data and json.loads(data)
    back = request_from_dict(JsonSerializer.loads(data.encode()), spider=spider)
    assert (back.url, back.callback, back.errback, back.cb_kwargs) == (request.url, spider.parse_article, spider.on_error,
                                                                       request.cb_kwargs)
    assert back.headers["If-None-Match"] == b'"abc"'
    assert list(back.meta["arshif_previous"]) == list(request.meta["arshif_previous"])


def test_a_redirected_request_is_queued_without_the_local_warc_reference():
    """RedirectMiddleware copies the 301 response's meta, WarcMiddleware's record location included:
    it names a file of this worker, so it stays here."""
    pytest.importorskip("scrapy_redis")
    from concurrent.futures import Future

    from crawler.cluster import JsonSerializer
    from crawler.middlewares import WARC_REF, WarcLocation
    from crawler.spiders.news import NewsSpider

    spider = NewsSpider(source="demo")
    request = spider._request("http://127.0.0.1:1/articles/1.html", spider.parse_article, "sitemap", {})
    request.meta[WARC_REF] = WarcLocation(Future())
    queued = json.loads(JsonSerializer.dumps(request.to_dict(spider=spider)))
    assert WARC_REF not in queued["meta"] and queued["meta"]["arshif_role"] == "article"
    assert WARC_REF in request.meta  # the worker's own request keeps it


def test_keys_are_per_source_and_run_and_names_are_checked():
    pytest.importorskip("scrapy_redis")
    from scrapy.settings import Settings

    from crawler.cluster import ClusterError, bloom_bits, configure, default_run_name, run_prefix

    settings = Settings({"REDIS_URL": "redis://h/0", "ARSHIF_REDIS_RUN": "2025-06-01"})
    assert configure(settings, "aljazeera") == "arshif:aljazeera:2025-06-01"
    assert settings["SCHEDULER_QUEUE_KEY"] == "arshif:aljazeera:2025-06-01:requests"
    assert settings["SCHEDULER_DUPEFILTER_KEY"] == "arshif:aljazeera:2025-06-01:seen"
    assert settings.getbool("SCHEDULER_PERSIST")
    assert run_prefix("demo", default_run_name()).startswith("arshif:demo:20")
    for bad in ("a b", "x:y", "%(spider)s", ""):
        with pytest.raises(ClusterError):
            run_prefix("demo", bad)
    bits, hashes = bloom_bits(1_000_000)
    assert 3.5e6 < bits / 8 < 3.7e6 and hashes == 20
    with pytest.raises(ClusterError):
        bloom_bits(10**9)


def test_without_redis_scrapy_redis_is_not_imported():
    code = ("import sys; from crawler.cli.common import crawl_settings; from crawler.cli.main import build_parser; build_parser(); s = crawl_settings('x.db', 'INFO'); "
            "assert 'scrapy_redis' not in sys.modules and 'redis' not in sys.modules; print(s['SCHEDULER'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, env={
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"}})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scrapy.core.scheduler.Scheduler"


def test_serve_publishes_several_shards():
    from crawler.cli.serve import datasette_command

    command = datasette_command(["data/shard-1.db", "data/shard-2.db"])
    assert "data/shard-1.db" in command and "data/shard-2.db" in command and "--crossdb" in command
    assert "--crossdb" not in datasette_command("data/archive.db")
