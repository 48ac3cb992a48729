"""A crawl that cannot write (disk full, read-only, WARC folder gone) stops at once and says why, once.

Every component that writes (the WARC middleware and its thread, the storage
pipeline) reports its failure here: the first report of each cause is logged in
one line, never with page bytes; the first one closes the spider with reason
`write_failed`, and the storage pipeline records it in the run's `crawls` row
(`status` failed, `error`). What was not committed has no outcome, so the next
run fetches it again.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

logger = logging.getLogger(__name__)

WRITE_ERROR = "arshif/write_error"  # stats: the first cause, as logged
REASON = "write_failed"  # the spider's close reason
WRITE_ERRORS = (OSError, sqlite3.Error)


def describe(exc: BaseException) -> str:
    """One line: what failed and why, with the file when the error names one (never data)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, str(exc.errno))
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc} [{name}]{where}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def report(crawler, exc: BaseException, what: str, lead: str = "Cannot write the archive") -> bool:
    """Log this cause once, record the first, and stop the crawl; True when the crawl was not stopped before."""
    cause = f"{what}: {describe(exc)}"
    stats = crawler.stats
    causes = stats.get_value("arshif/write_errors") or []
    if cause not in causes:
        stats.set_value("arshif/write_errors", [*causes, cause])
        logger.error("%s: %s. Stopping the crawl; pages not written are fetched again by the next run", lead, cause)
    if stats.get_value(WRITE_ERROR):
        return False
    stats.set_value(WRITE_ERROR, cause)
    from twisted.internet import reactor

    reactor.callFromThread(_close, crawler)  # the WARC thread reports too
    return True


def _close(crawler) -> None:
    engine = crawler.engine
    if engine is None or getattr(engine, "spider", None) is None:
        return
    if hasattr(engine, "close_spider_async"):  # Scrapy >= 2.14
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(engine.close_spider_async(reason=REASON)).addErrback(lambda failure: None)
    else:
        engine.close_spider(crawler.spider, REASON).addErrback(lambda failure: None)


def failed(crawler) -> bool:
    return bool(crawler.stats.get_value(WRITE_ERROR))
