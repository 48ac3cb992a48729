"""Items passed from the spider to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PageItem:
    """A fetched article candidate: raw bytes in, a `record` filled by the pipelines."""

    url: str
    source: str
    body: bytes
    content_type: str | None = None
    status: int = 200
    fetched_at: str = ""
    discovered_via: str = ""  # start, listing, sitemap, feed, article
    hints: dict = field(default_factory=dict)  # sitemap/feed title and date
    prune_selectors: tuple[str, ...] = ()
    warc: dict | None = None  # warc_file, warc_offset, warc_length of the response
    record: dict | None = None  # the article record, set by ExtractionPipeline
    duplicate: dict | None = None  # set by DedupPipeline: {"of": id, "kind": ..., "similarity": ...}
    replaces: dict | None = None  # set by DedupPipeline: a better-placed copy of the same text takes the article's id
    edit: bool = False  # set by DedupPipeline: a new text of the archived article record["id"] (--refresh)
