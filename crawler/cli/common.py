"""What the `arshif` subcommands share: default paths, the crawl's settings, one crawl run and its summary line."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATASETTE_DIR = PROJECT_DIR / "datasette"
DEFAULT_DB = "data/archive.db"
DEMO_PORT = 8642


def crawl_settings(db: str, log_level: str, overrides: list[str] | None = None, polite: bool = True):
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("ARSHIF_DB", db, priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    if not polite:  # a local site: no throttling
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 16, priority="cmdline")
    for override in overrides or []:
        key, _, value = override.partition("=")
        settings.set(key.strip(), value, priority="cmdline")
    return settings


def run_crawl(source: str, db: str, base_url: str | None = None, log_level: str = "INFO",
              overrides: list[str] | None = None, polite: bool = True) -> dict:
    """Run the `news` spider in this process; return its crawls row as a dict."""
    from scrapy.crawler import CrawlerProcess

    from crawler.sources import load_source
    from pipelines.archive.database import close_abandoned, open_archive

    loaded = load_source(source)  # fail here, with the file and key, before Scrapy starts
    settings = crawl_settings(db, log_level, overrides, polite)
    if settings.get("REDIS_URL"):  # a cluster worker: scrapy-redis queue and seen-set (crawler/cluster.py)
        from crawler.cluster import ClusterError, configure

        try:
            configure(settings, loaded.name)
        except ClusterError as exc:
            raise SystemExit(f"arshif: {exc}") from None
    started = time.monotonic()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("news")
    kwargs = {"source": source}
    if base_url:
        kwargs["base_url"] = base_url
    process.crawl(crawler, **kwargs)
    process.start()
    crawl_id = crawler.stats.get_value("arshif/crawl_id")
    if crawl_id is None:
        raise SystemExit(f"arshif: the crawl of {source!r} did not start (see the log above)")
    db_handle = open_archive(db)
    try:
        close_abandoned(db_handle, crawl_id)  # a second signal stopped the reactor before the pipelines closed
        row = dict(db_handle["crawls"].get(crawl_id))
    finally:
        db_handle.close()
    row["seconds"] = round(time.monotonic() - started, 1)
    row["peak_rss_mb"] = peak_rss_mb()
    if settings.get("REDIS_URL"):
        row["cluster_run"] = settings.get("ARSHIF_REDIS_PREFIX")
        row["cluster_requeued"] = crawler.stats.get_value("cluster/requests_requeued", 0)
    return row


def peak_rss_mb() -> int:
    """Peak resident memory of this process or its largest child (the extraction workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024)


def summary_line(row: dict) -> str:
    """One line per source; the peak RSS is the process's, so `crawl --all` leaves it out of each source's line."""
    rss = "" if row.get("peak_rss_mb") is None else f", peak RSS {row['peak_rss_mb']} MB"
    return (
        f"{row['source']}: {row['pages_fetched']} pages fetched, {row['stored']} articles stored; "
        f"dropped: {row['duplicate']} duplicate, {row['already_archived']} already archived, "
        f"{row['not_arabic']} not Arabic, {row['not_article']} not an article, "
        f"{row['extraction_failed']} extraction failed; {row['http_error']} HTTP errors; "
        f"not downloaded again: {row['skipped_archived'] or 0} archived articles, {row['not_modified'] or 0} unchanged pages "
        f"(crawl {row['id']}, {row['status']}{', page limit reached' if row.get('limit_reached') else ''}, "
        f"{row['seconds']} s{rss})"
    )


def refuse_if_locked(db: str) -> None:
    """Exit at once, with a clear message, when another run writes this archive."""
    from pipelines.archive.lock import ArchiveLock, ArchiveLocked

    try:
        ArchiveLock(db).acquire().release()
    except ArchiveLocked as exc:
        print(f"arshif: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
