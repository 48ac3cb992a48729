"""The `reextract` spider: replay archived WARC responses through the pipelines.

No network: the article responses in the WARC folder become PageItems, and the
same pipelines as a crawl (extraction, language, dedup, storage) rebuild the
archive. `arshif reextract` runs it into a fresh database. Given the archive
(`-a archive=data/archive.db`), only the records its rows reference are replayed
(`ArchivedReferences`: an edited article's newest fetch, not its older ones, and never the
files of another archive that shares the folder).
"""

from __future__ import annotations

from pathlib import Path

import scrapy

from crawler.items import PageItem
from crawler.sources import SourceError, load_source
from crawler.spiders.closing import close_when_idle
from pipelines.archive.rebuild import ArchivedReferences
from pipelines.archive.warc import iter_responses, unreadable_reason
from pipelines.outcomes.write_failure import failed


class ReextractSpider(scrapy.Spider):
    name = "reextract"
    source_name = "reextract"

    def __init__(self, warc_dir: str | None = None, imported_from: str | None = None, archive: str | None = None,
                 *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not warc_dir:
            raise ValueError("give the WARC folder: scrapy crawl reextract -a warc_dir=data/warc")
        self.warc_dir = warc_dir
        self.imported_from = imported_from  # the archive whose `arshif import --no-copy` pages to replay from their files
        self.archive = archive  # the archive whose rows name the records to replay
        self._prune: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        close_when_idle(crawler)  # a replay scrapes no response: Scrapy alone would never see its close is done
        return spider

    def _prune_selectors(self, source: str | None) -> tuple[str, ...]:
        if not source:
            return ()
        if source not in self._prune:
            try:
                self._prune[source] = load_source(source).prune_selectors
            except SourceError:
                self._prune[source] = ()
        return self._prune[source]

    async def start(self):
        """Each WARC file is first read to its end (every gzip member complete): one that cannot be is
        not replayed at all and is named in the stat `arshif/warc_unreadable` (file → reason), which
        `arshif reextract` refuses before it touches the archive."""
        max_size = self.crawler.settings.getint("DOWNLOAD_MAXSIZE", 0)  # as the crawl: never decompress a bomb
        unreadable: dict[str, str] = {}
        self.crawler.stats.set_value("arshif/warc_unreadable", unreadable)
        references = ArchivedReferences(self.archive) if self.archive else None
        if references is not None and not references.knows_files:
            self.crawler.stats.set_value("arshif/warc_references_missing", True)
        try:
            async for item in self._replay(references, unreadable, max_size):
                yield item
        finally:
            if references is not None:
                references.close()

    async def _replay(self, references, unreadable: dict, max_size: int):
        for path in sorted(Path(self.warc_dir).glob("*.warc.gz")):
            if references is not None and references.foreign_file(path.name):  # another archive's, in a shared folder
                self.crawler.stats.set_value("arshif/warc_files_foreign", sorted(references.foreign))
                continue
            reason = unreadable_reason(path)
            if reason:
                unreadable[path.name] = reason
                self.logger.error("Unreadable WARC file %s: %s", path.name, reason)
                continue
            try:
                for stored in iter_responses(self.warc_dir, max_size=max_size, only=path.name):
                    if references is not None and stored.role == "article" and stored.status == 200 and \
                            not references.wanted(stored.url, stored.ref.file, stored.ref.offset):
                        self.crawler.stats.inc_value("arshif/warc_responses_superseded")
                        continue
                    if failed(self.crawler):  # the archive cannot be written: the run is closing
                        return
                    item = self._item(stored, max_size)
                    if item is not None:
                        yield item
            except Exception as exc:  # noqa: BLE001  (warcio: a record whose headers are damaged)
                unreadable[path.name] = f"{type(exc).__name__}: {str(exc)[:200]}"
                self.logger.error("Unreadable WARC file %s: %s", path.name, unreadable[path.name])
        for item in self._uncopied(max_size, unreadable):
            yield item

    def _uncopied(self, max_size: int, unreadable: dict):
        """Pages `arshif import --no-copy` left in the imported files: each read at its row's place there."""
        if not self.imported_from:
            return
        from pipelines.archive.warc import read_response
        from pipelines.archive.warc_import import changed_imports, imported_paths, uncopied_pages

        paths = imported_paths(self.imported_from)
        changed = changed_imports(self.imported_from)  # an edited original must not rewrite archived articles
        for url, source, file, offset, length in uncopied_pages(self.imported_from):
            if file in changed:
                unreadable.setdefault(file, changed[file])
                continue
            stored = read_response("", file, offset, length, imported=paths)
            if stored is None:  # the file moved, changed or was cut: its rows stay as archived
                unreadable.setdefault(file, f"no response record at offset {offset} any more")
                continue
            stored.role, stored.source = "article", source
            item = self._item(stored, max_size)
            if item is not None:
                item.url = url  # as imported (the record's URI may still carry its fragment)
                yield item

    def _item(self, stored, max_size: int):
        if stored.role != "article" or stored.status != 200:
            return None
        if stored.body is None or (max_size and len(stored.body) > max_size):
            self.crawler.stats.inc_value("arshif/replay_too_large")
            self.logger.warning("Not replayed: %s decodes to more than DOWNLOAD_MAXSIZE (%s B)", stored.url, max_size)
            return None
        self.crawler.stats.inc_value("arshif/warc_responses_replayed")
        return PageItem(
            url=stored.url,
            source=stored.source or "",
            body=stored.body,
            content_type=stored.headers.get("content-type"),
            status=stored.status,
            fetched_at=stored.date.replace("Z", "+00:00"),
            discovered_via="warc",
            prune_selectors=self._prune_selectors(stored.source),
            warc={"warc_file": stored.ref.file, "warc_offset": stored.ref.offset, "warc_length": stored.ref.length},
        )
