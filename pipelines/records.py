"""Build the record the archive stores for one page: extraction plus language.

This is the unit of CPU work: picklable arguments in, a plain dict out, so the
crawl can run it in a process pool and the CLI can run it directly.
"""

from __future__ import annotations

from pipelines.extraction import ExtractOptions, extract_article
from pipelines.fingerprints import content_hash
from pipelines.language import detect_language


def make_record(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    source: str | None = None,
    fetched_at: str | None = None,
    prune_selectors: tuple[str, ...] = (),
    hints: dict | None = None,
    min_words: int | None = None,
) -> dict:
    """Extract the article and decide its language; raises ExtractionError."""
    options = ExtractOptions(prune_selectors=tuple(prune_selectors), fetched_at=fetched_at, hints=hints or {})
    if min_words is not None:
        options.min_words = min_words
    record = extract_article(body, url, content_type, options)
    language, probability = detect_language(f"{record['title'] or ''}\n{record['text']}")
    record.update(
        source=source,
        fetched_at=fetched_at,
        language=language,
        language_prob=round(probability, 4),
        content_hash=content_hash(record["text"]) if record["text"] else None,
    )
    return record
