"""LanguagePipeline: keep the languages the archive is for (Arabic by default)."""

from __future__ import annotations

from itemadapter import ItemAdapter

from pipelines.outcomes import drop


class LanguagePipeline:
    def __init__(self, crawler, keep: set[str]):
        self.crawler = crawler
        self.keep = keep

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, set(crawler.settings.getlist("ARSHIF_KEEP_LANGUAGES", ["ar"])))

    def process_item(self, item):
        page = ItemAdapter(item)
        language = page["record"]["language"]
        if language not in self.keep:
            raise drop(self.crawler, "not_arabic", f"{page['url']}: language {language}")
        return item
