"""Name every outcome once: a Scrapy stats counter and a `crawls` column."""

from __future__ import annotations

from scrapy.exceptions import DropItem

STATS_PREFIX = "arshif/"


def count(crawler, outcome: str) -> None:
    crawler.stats.inc_value(f"{STATS_PREFIX}{outcome}")


def drop(crawler, outcome: str, message: str) -> DropItem:
    """Count the outcome and return the DropItem to raise."""
    count(crawler, outcome)
    return DropItem(f"{outcome}: {message}", log_level="INFO")
