"""A site that is down is one line per host in the log, not a traceback per request.

When a host refuses connections or its name does not resolve, Scrapy logs each
request that gave up retrying at ERROR, and robots.txt's failure with a full
traceback: dozens of lines per down source every hour, in the cron mail. The
spider logs one WARNING per such host (crawler/spiders/news.py, `on_error`) and
counts every failure in `crawls.faults`; this filter turns those Scrapy records
of the same failures into DEBUG (shown with `--log-level DEBUG`), without their
traceback. Any other error keeps its level.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from twisted.internet.error import ConnectionRefusedError as TwistedConnectionRefused
from twisted.internet.error import DNSLookupError

UNREACHABLE = (DownloadConnectionRefusedError, CannotResolveHostError, TwistedConnectionRefused, DNSLookupError)
LOGGERS = ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt")


class UnreachableHostFilter(logging.Filter):
    """Demote Scrapy's per-request records of an unreachable host to DEBUG, traceback dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None and isinstance(record.args, dict):
            exc = record.args.get("reason") or record.args.get("f_exception")
        if isinstance(exc, UNREACHABLE) and record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_info, record.exc_text = None, None
        return True


def install() -> None:
    """Once per process (every crawler of `crawl --all` calls it)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, UnreachableHostFilter) for existing in logger.filters):
            logger.addFilter(UnreachableHostFilter())
