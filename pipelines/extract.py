"""ExtractionPipeline: raw page → article record (title, body, author, date, language)."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter

from pipelines.extraction import ExtractionError
from pipelines.outcomes import drop
from pipelines.records import make_record

logger = logging.getLogger(__name__)


class ExtractionPipeline:
    def __init__(self, crawler, min_words: int):
        self.crawler = crawler
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getint("ARSHIF_MIN_WORDS", 40))

    def process_item(self, item):
        page = ItemAdapter(item)
        try:
            record = make_record(
                page["body"],
                page["url"],
                page["content_type"],
                source=page["source"],
                fetched_at=page["fetched_at"],
                prune_selectors=page["prune_selectors"],
                hints=page["hints"],
                min_words=self.min_words,
            )
        except ExtractionError as exc:
            logger.warning("Extraction failed for %s: %s", page["url"], exc)
            raise drop(self.crawler, "extraction_failed", f"{page['url']}: {exc}") from None
        except Exception as exc:  # a bug in a parser must not stop the crawl
            logger.exception("Extraction crashed on %s", page["url"])
            raise drop(self.crawler, "extraction_failed", f"{page['url']}: {exc!r}") from None
        if not record["is_article"]:
            raise drop(self.crawler, "not_article", f"{page['url']}: {record['verdict']}")
        page["record"] = record
        return item
