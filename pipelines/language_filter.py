"""LanguagePipeline: keep the languages the archive is for (Arabic by default).

It also applies the source's `limits.newer_than`: an article published before
that date is counted as `too_old` and not stored.
"""

from __future__ import annotations

from itemadapter import ItemAdapter

from pipelines.outcomes.counters import drop


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
        source = getattr(self.crawler.spider, "source", None)
        newer_than = source.limits.newer_than if source is not None else None
        published = page["record"].get("published")
        if newer_than and published and published[:10] < newer_than[:10]:
            raise drop(self.crawler, "too_old", f"{page['url']}: published {published[:10]} < {newer_than}")
        return item
