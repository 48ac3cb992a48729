"""One crawl of the throughput benchmark, in its own process (started by run.py).

    python -m bench.throughput.child MODE --source SITE/bench.toml --origin ORIGIN --workdir DIR --out RESULT.json

MODE: `fetch` (a), `naive` (b) or `arshif` (c); `fetch-seen` (d) is (a) with links
de-duplicated in the spider before Requests are built. Writes a JSON result: responses,
items, wall seconds of the crawl (from just before the engine starts to its
end, imports excluded) and the Scrapy stats that matter.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Shared by the three crawls: no throttling, 32 requests at once on the one local host.
COMMON = {
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
}
STAT_KEYS = ("downloader/response_count", "downloader/request_count", "item_scraped_count", "item_dropped_count",
             "elapsed_time_seconds", "memusage/max", "response_received_count", "scheduler/enqueued",
             "dupefilter/filtered", "downloader/exception_count", "retry/count", "log_count/ERROR", "finish_reason")


def _reference_settings(mode: str, workdir: Path, log_level: str, concurrency: int) -> dict:
    from crawler import settings as project

    settings = {
        **COMMON,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "LOG_LEVEL": log_level,
        "USER_AGENT": project.USER_AGENT,
        "ROBOTSTXT_OBEY": project.ROBOTSTXT_OBEY,
        "DEPTH_LIMIT": project.DEPTH_LIMIT,
        "RETRY_TIMES": project.RETRY_TIMES,
        "DOWNLOAD_TIMEOUT": project.DOWNLOAD_TIMEOUT,
    }
    if mode == "naive":
        settings["ITEM_PIPELINES"] = {"bench.throughput.spiders.NaiveSQLitePipeline": 100}
        settings["BENCH_NAIVE_DB"] = str(workdir / "naive.db")
    return settings


def run_reference(mode: str, source: str, origin: str, workdir: Path, log_level: str, concurrency: int) -> dict:
    from scrapy.crawler import CrawlerProcess

    from bench.throughput.spiders import FetchSpider, NaiveSpider

    process = CrawlerProcess(_reference_settings(mode, workdir, log_level, concurrency), install_root_handler=True)
    crawler = process.create_crawler(NaiveSpider if mode == "naive" else FetchSpider)
    process.crawl(crawler, source=source, base_url=origin, seen_links="1" if mode == "fetch-seen" else "")
    started = time.monotonic()
    process.start()
    seconds = time.monotonic() - started
    stats = crawler.stats.get_stats()
    return {"seconds": seconds, "stats": {k: stats.get(k) for k in STAT_KEYS}}


def patch_seen_links() -> None:
    """What-if (bench only, `--what-if seen-links`): NewsSpider._links skips URLs it already yielded.

    Measures the suggested change to crawler/spiders/news.py without editing it:
    one set lookup per link instead of a Request, the spider middlewares, a fingerprint
    and the dupefilter for the ~79 of ~80 links per page that were requested before.
    """
    from crawler.spiders.news import NewsSpider

    def _links(self, response, via):
        seen = self.__dict__.setdefault("_bench_seen_links", set())
        for href in response.xpath("//a/@href").getall():
            url = response.urljoin(href.strip())
            if url in seen:
                continue
            seen.add(url)
            request = self._follow(url, via)
            if request is not None:
                yield request

    NewsSpider._links = _links


def run_arshif(source: str, origin: str, workdir: Path, log_level: str, concurrency: int, extra: list[str]) -> dict:
    """`arshif crawl SOURCE --base-url ORIGIN --local -s CONCURRENT_REQUESTS=32 ...` into a fresh archive."""
    from scrapy import signals

    from crawler.cli import common as cli

    overrides = [f"{k}={v}" for k, v in COMMON.items()]
    overrides += [f"CONCURRENT_REQUESTS={concurrency}", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}", *extra]
    captured: dict = {}
    from scrapy.crawler import CrawlerProcess

    create = CrawlerProcess.create_crawler

    def create_and_capture(self, crawler_or_spidercls):  # to read the Scrapy stats after run_crawl
        crawler = create(self, crawler_or_spidercls)
        captured["crawler"] = crawler
        crawler.signals.connect(lambda: captured.setdefault("opened", time.monotonic()), signal=signals.engine_started)
        return crawler

    CrawlerProcess.create_crawler = create_and_capture
    db = str(workdir / "archive.db")
    started = time.monotonic()
    row = cli.run_crawl(source, db, origin, log_level, overrides, polite=False)
    seconds = time.monotonic() - started
    stats = captured["crawler"].stats.get_stats()
    row.pop("stats", None)
    return {
        "seconds": seconds,
        "engine_seconds": seconds - (captured.get("opened", started) - started),
        "stats": {k: stats.get(k) for k in STAT_KEYS},
        "crawls_row": row,
        "warc_bytes": sum(p.stat().st_size for p in (workdir / "warc").glob("*.warc.gz")),
    }


def _time_garbage_collection() -> dict:
    """CPU the crawl process spends in Python's cyclic garbage collector, and its runs per
    generation (the thread that triggers a collection does it, holding the GIL)."""
    import gc

    totals = {"seconds": 0.0, "runs": [0, 0, 0]}
    started = [0.0]

    def timer(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            totals["seconds"] += time.thread_time() - started[0]
            totals["runs"][info["generation"]] += 1

    gc.callbacks.append(timer)
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("fetch", "fetch-seen", "naive", "arshif"))
    parser.add_argument("--source", required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("-s", "--set", action="append", default=[], help="extra setting for the arshif crawl")
    parser.add_argument("--what-if", choices=("seen-links",), action="append", default=[],
                        help="bench-only patch of the arshif crawl (see patch_seen_links)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    if "seen-links" in args.what_if:
        patch_seen_links()
    collections = _time_garbage_collection()
    if args.mode == "arshif":
        result = run_arshif(args.source, args.origin, workdir, args.log_level, args.concurrency, args.set)
    else:
        result = run_reference(args.mode, args.source, args.origin, workdir, args.log_level, args.concurrency)
    result["pid"] = os.getpid()
    result["gc"] = collections
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, default=str, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
