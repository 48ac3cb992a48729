"""Log lines without whole pages in them.

Scrapy's default drop message prints the item, which here holds the raw page
bytes; a crawl of 10,000 pages would log hundreds of megabytes.
"""

from __future__ import annotations

from scrapy import logformatter


class ArshifLogFormatter(logformatter.LogFormatter):
    def dropped(self, item, exception, response, spider):
        entry = super().dropped(item, exception, response, spider)
        entry["msg"] = "Dropped: %(exception)s"
        return entry

    def item_error(self, item, exception, response, spider):
        """The URL, not the item: Scrapy's "Error processing {item}" printed the whole page."""
        entry = super().item_error(item, exception, response, spider)
        entry["msg"] = "Error processing %(url)s"
        entry["args"] = {"url": getattr(item, "url", "")}
        return entry

    def scraped(self, item, response, spider):
        entry = super().scraped(item, response, spider)
        entry["msg"] = "Stored %(url)s"
        entry["args"] = {"url": getattr(item, "url", "")}
        return entry
