"""Many sources in one process and one archive writer: `arshif crawl --all` and `arshif crawl A B C`.

One Scrapy crawler per source in one CrawlerProcess, on one reactor. A polite
crawl waits on per-site delays, not on the CPU, so the sources' waits overlap.
Each crawler keeps what is per source: its spider, robots.txt, AutoThrottle and
DOWNLOAD_DELAY (Scrapy's download slots are per domain), page limit, stats and
`crawls` row. What must be one per archive is one: the archive lock, taken
here for the whole run, and the writer the pipelines share
(pipelines/archive/shared.py: one SQLite connection and open batch, one
dedup memory and near-duplicate index, one extraction pool).

A source that cannot run (a broken source file, a bad cluster option) is
reported failed, with its file and key, and the others run. A failure of the
archive itself (disk full, database unwritable) stops every source.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.archive.database import (
    close_abandoned,
    finish_crawl,
    open_archive,
    start_crawl,
)
from pipelines.archive.shared import SharedArchive
from pipelines.outcomes.write_failure import REASON, WRITE_ERROR, failed
from pipelines.outcomes.write_failure import report as report_write_failure

logger = logging.getLogger(__name__)

# exit codes of `arshif crawl` (README "Exit codes"), per source and for the run: the largest but 3 wins
FINISHED, FAILED, NOTHING, LOCKED = 0, 1, 2, 3


class ArchiveStopped(RuntimeError):
    """Another source of the run could not write the archive: this one stops too."""


@dataclass
class SourceRun:
    """One source of the run: what was asked, and its `crawls` row or why it did not run."""

    spec: str  # a name from seeds/ or a path to a .toml file
    name: str
    base_url: str | None = None
    crawler: object = None
    row: dict | None = None
    error: str | None = None
    exit: int = FINISHED
    extra: dict = field(default_factory=dict)


def source_exit(row: dict) -> int:
    """0: finished (found nothing new is fine); 1: the run failed; 2: it yielded no article at all.

    "No article at all": the run finished, no page of it became an article, a duplicate, or an
    already archived one, and no page was unchanged since the last run (304) — the site answered
    nothing usable (unreachable, all errors, blocked, or its layout no longer matches).
    """
    if row["status"] != "finished":
        return FAILED
    found = row["stored"] + row["duplicate"] + row["already_archived"] + (row["skipped_archived"] or 0)
    candidates = found + sum(row.get(key) or 0 for key in ("not_article", "not_arabic", "too_old", "extraction_failed"))
    if row.get("cluster_run") and candidates == 0:
        return FINISHED  # other workers of the run took the article pages
    if row.get("limit_reached") and candidates == 0:
        return FINISHED  # the page limit came before any article page
    if found == 0 and not row["not_modified"]:
        return NOTHING
    return FINISHED


def run_exit(runs: list[SourceRun]) -> int:
    """The run's exit code: 1 if a source failed, else 2 if one yielded nothing, else 0."""
    codes = {run.exit for run in runs}
    return FAILED if FAILED in codes else NOTHING if NOTHING in codes else FINISHED


def plan(specs: list[str], base_urls: dict[str, str]) -> tuple[list[SourceRun], list]:
    """Load every source file; a broken one becomes a failed SourceRun (file and key in its error)."""
    from crawler.sources import SEEDS_DIR, SourceError, load_source

    runs, loaded, files = [], [], {}
    for spec in specs:
        path = Path(spec) if spec.endswith(".toml") else SEEDS_DIR / f"{spec}.toml"
        if path.resolve() in files:  # the same file named twice (`crawl demo demo`): crawled once
            continue
        try:
            source = load_source(spec)
        except SourceError as exc:  # a file that is there but broken still gets its failed `crawls` row
            runs.append(SourceRun(spec, path.stem, error=str(exc), exit=FAILED, extra={"file": path.is_file()}))
            continue
        if source.name in {run.name for run in runs}:
            first = next(file for file, name in files.items() if name == source.name)
            runs.append(SourceRun(spec, source.name, exit=FAILED,
                                  error=f"{path}: names source {source.name}, which {first} names already (one file per source)"))
            continue
        files[path.resolve()] = source.name
        runs.append(SourceRun(spec, source.name, base_url=base_urls.get(source.name)))
        loaded.append(source)
    unknown = set(base_urls) - {run.name for run in runs}
    if unknown:
        raise ValueError(f"--base-url for sources not in this run: {', '.join(sorted(unknown))}")
    return runs, loaded


def run_sources(specs: list[str], db: str, base_urls: dict[str, str] | None = None, log_level: str = "INFO",
                overrides: list[str] | None = None, polite: bool = True) -> list[SourceRun]:
    """Crawl these sources concurrently into one archive; raises ArchiveLocked before touching anything."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.cli.common import crawl_settings
    from crawler.spiders.news import NewsSpider
    from pipelines.similarity.urls import check_fold

    runs, loaded = plan(specs, base_urls or {})
    settings = crawl_settings(db, log_level, overrides, polite)
    with SharedArchive(db) as shared:  # the lock, for the whole run
        shared.folds = frozenset(check_fold(source.url_fold) for source in loaded)
        _record_unstarted(db, [run for run in runs if run.error and run.extra.get("file")])
        process = CrawlerProcess(settings)
        started = time.monotonic()
        for run in runs:
            if run.error:
                continue
            crawler = process.create_crawler(NewsSpider)
            if settings.get("REDIS_URL"):  # each worker takes every source: one cluster run per source
                from crawler.cluster import ClusterError, configure

                try:
                    run.extra["cluster_run"] = configure(crawler.settings, run.name)
                except ClusterError as exc:
                    run.error, run.exit = str(exc), FAILED
                    continue
            run.crawler = crawler
            crawler.signals.connect(_stop_all_on_write_failure(crawler, runs), signal=signals.spider_closed)
            kwargs = {"source": run.spec, **({"base_url": run.base_url} if run.base_url else {})}
            process.crawl(crawler, **kwargs).addErrback(_crawl_failed, run)
        if any(run.crawler is not None for run in runs):
            process.start()
        logger.debug("%d sources in %.1f s", len(runs), time.monotonic() - started)
        _collect(db, runs)
    return runs


def _stop_all_on_write_failure(crawler, runs: list[SourceRun]):
    """The archive failing for one source fails it for all: stop the others at once."""

    def spider_closed(spider, reason):
        if reason != REASON:
            return
        cause = crawler.stats.get_value(WRITE_ERROR) or "the archive cannot be written"
        for run in runs:
            other = run.crawler
            if other is not None and other is not crawler and not failed(other):
                report_write_failure(other, ArchiveStopped(f"{spider.source_name}: {cause}"), "stopped with the archive")

    return spider_closed


def _crawl_failed(failure, run: SourceRun) -> None:
    """The crawler of one source raised (before or while crawling): that source failed, the others go on."""
    run.error, run.exit = f"{failure.type.__name__}: {failure.value}", FAILED
    logger.error("Source %s failed: %s", run.name, run.error)


def _record_unstarted(db: str, runs: list[SourceRun]) -> None:
    """A `crawls` row (failed, with the reason) for each source whose file exists but cannot run."""
    if not runs:
        return
    handle = open_archive(db)
    try:
        for run in runs:
            crawl_id = start_crawl(handle, run.name)
            finish_crawl(handle, crawl_id, "failed", {}, {"finish_reason": "source_error"}, error=run.error)
            run.extra["crawl_id"] = crawl_id
    finally:
        handle.close()


def _collect(db: str, runs: list[SourceRun]) -> None:
    """Each crawled source's `crawls` row and exit code."""
    handle = open_archive(db)
    try:
        for run in runs:
            if run.crawler is None:
                continue
            crawl_id = run.crawler.stats.get_value("arshif/crawl_id")
            if crawl_id is None:
                run.error = run.error or "the crawl did not start (see the log above)"
                run.exit = FAILED
                continue
            close_abandoned(handle, crawl_id)  # a second signal stopped the reactor before the pipelines closed
            row = dict(handle["crawls"].get(crawl_id))
            row["seconds"] = round(run.crawler.stats.get_value("elapsed_time_seconds") or 0, 1)
            if run.extra.get("cluster_run"):
                row["cluster_run"] = run.extra["cluster_run"]
                row["cluster_requeued"] = run.crawler.stats.get_value("cluster/requests_requeued", 0)
            run.row = row
            run.exit = source_exit(row) if not run.error else FAILED
    finally:
        handle.close()
