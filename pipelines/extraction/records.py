"""Build the record the archive stores for one page: extraction plus language.

This is the unit of CPU work: picklable arguments in, a plain dict out, so the
crawl can run it in a process pool and the CLI can run it directly.
"""

from __future__ import annotations

from pipelines.extraction.article import ExtractOptions, extract_with_tokens
from pipelines.similarity.fingerprints import tokens_hash
from pipelines.text.language import detect_language
from pipelines.similarity.minhash import signature_of
from pipelines.text.normalize import tokens
from pipelines.text.search_text import search_form


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
    with_fingerprints: bool = False,
) -> dict:
    """Extract the article, decide its language and fingerprint it; raises ExtractionError.

    ``with_fingerprints`` (the crawl's workers) adds ``record["fingerprints"]``:
    the MinHash signature and the FTS search forms. They and the content hash
    start from the text's normalized tokens, computed once, in the worker (by
    extraction, which normalizes the text's lines anyway), so the reactor only
    compares and stores them.
    """
    options = ExtractOptions(prune_selectors=tuple(prune_selectors), fetched_at=fetched_at, hints=hints or {})
    if min_words is not None:
        options.min_words = min_words
    record, words = extract_with_tokens(body, url, content_type, options)
    language, probability = detect_language(f"{record['title'] or ''}\n{record['text']}")
    record.update(
        source=source,
        fetched_at=fetched_at,
        language=language,
        language_prob=round(probability, 4),
    )
    record["content_hash"] = tokens_hash(words) if record["text"] else None
    if with_fingerprints:
        record["fingerprints"] = fingerprints(record["title"], words)
    return record


def fingerprints(title: str | None, words: list[str]) -> dict:
    """MinHash signature, shingle count, LSH band keys and shingle hashes (pipelines/similarity/minhash.py), FTS forms of title and text."""
    sig = signature_of(words)
    return {
        "minhash": sig.to_bytes(),
        "shingles": sig.shingles,
        "bands": sig.band_keys(),  # the reactor looks them up without hashing again
        "shingle_hashes": sig.hashes_bytes(),  # exact Jaccard decides near copies (pipelines/dedup.py)
        "search_title": search_form(tokens(title)) if title else "",
        "search_text": search_form(words),
    }
