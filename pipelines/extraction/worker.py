"""What runs in an extraction worker process: one page in, (record, error) out.

Kept apart from pipelines/extract.py (the Scrapy item pipeline that owns the
pool) so a worker imports the extraction code only: no Scrapy, Twisted or
sqlite-utils, about 50 MB less in every worker.
"""

from __future__ import annotations

from pipelines.extraction.article import ExtractionError
from pipelines.extraction.records import make_record
from pipelines.archive.warc import build_exchange

# C0 controls that no text uses (tab, line breaks, form feed and CR excluded): what binary data is full of
_BINARY_BYTES = bytes(range(0, 9)) + bytes(range(14, 32))


def looks_binary(body: bytes) -> bool:
    """Binary data labelled text/html: many control bytes in the first 4 KB."""
    head = body[:4096]
    control = len(head) - len(head.translate(None, _BINARY_BYTES))
    return control > len(head) * 0.03


def page_problem(body: bytes, max_size: int | None = None) -> str | None:
    """Why the crawl would not extract these bytes, or None: the one check the crawl's workers
    and `arshif extract` share, so both give the same verdict for the same bytes."""
    if max_size is not None and len(body) > max_size:
        return f"{len(body):,} bytes, over the {max_size:,}-byte page limit (DOWNLOAD_MAXSIZE)"
    if looks_binary(body):
        return "binary data, not HTML"
    return None


def extract_page(body, url, content_type, source, fetched_at, prune_selectors, hints, min_words, warc_exchange=None):
    """Worker entry point: returns (record, None, built) or (None, error message, built).

    With `warc_exchange` (build_exchange's arguments; without a body of their own when the
    page came uncompressed) it also builds the page's WARC records first, whatever extraction
    makes of the page; `built` is None without.
    """
    built = None
    if warc_exchange is not None:
        try:
            built = build_exchange(**{"body": body, **warc_exchange})
        except Exception:  # the crawl's WARC thread writes it instead, and reports what fails there
            built = None
    problem = page_problem(body)
    if problem:
        return None, problem, built
    try:
        return make_record(
            body, url, content_type, source=source, fetched_at=fetched_at,
            prune_selectors=prune_selectors, hints=hints, min_words=min_words, with_fingerprints=True,
        ), None, built
    except ExtractionError as exc:
        return None, str(exc), built
