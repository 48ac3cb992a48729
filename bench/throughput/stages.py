"""Per-page cost of each step of Arshif's pipeline, measured on plain functions in one process.

    python -m bench.throughput.stages --pages 2000 [--sample 300]

The steps of pipelines.extraction.article.extract_article are replayed one by one with
time.process_time (CPU) and time.perf_counter around each (for timing only: the record is compared with
extract_article's own to show the replay is faithful), then language, dedup
keys, the SQLite batch writes, and what the reactor thread does per page in a
crawl (WARC record, link extraction, Request objects).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urljoin

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Where each step runs in a crawl: "worker" (process pool) or "reactor" (the crawler's main thread).
STAGES = (
    ("decode", "worker", "decode_html: bytes → str"),
    ("parse", "worker", "lxml.html.document_fromstring"),
    ("metadata", "worker", "read_metadata: JSON-LD, meta, <time>"),
    ("prune", "worker", "prune_boilerplate"),
    ("title+dates+author", "worker", "_title, _find_title_element, _dateline, _published, _byline"),
    ("body (trafilatura)", "worker", "extraction._body_text: trafilatura.bare_extraction(tree, options), no metadata"),
    ("safety net", "worker", "safety_net.suspicious on every page; _unpruned_body (parse + trafilatura again) on the suspicious ones"),
    ("clean+verdict", "worker", "_clean_lines, canonical URL, _article_verdict"),
    ("language", "worker", "detect_language(title + text)"),
    ("fingerprints", "worker", "tokens once → content hash, MinHash signature, FTS search forms (records.fingerprints)"),
    ("pickle to/from pool", "both", "args and record through the pool (dumps+loads)"),
    ("dedup exact", "reactor", "dict lookups in DedupPipeline (url, canonical, hash)"),
    ("near-dup LSH", "reactor", "NearDuplicateIndex.matches (exact Jaccard) + add on SQLite (signature and shingle hashes from the worker)"),
    ("storage", "reactor", "insert_rows, batches of 50, WAL, FTS trigger with the worker's search forms"),
    ("warc write", "WARC thread", "WarcWriter.write_exchange (gzip level 6): the crawl's WARC thread, GIL released in zlib"),
    ("spider links", "reactor", "NewsSpider._links: parse, hrefs, links seen before skipped, a Request per new one"),
    ("naive: bare_extraction", "(b) only", "trafilatura.bare_extraction(html, with_metadata=True), for comparison"),
    ("naive: langdetect", "(b) only", "langdetect.detect on the whole text, for comparison"),
)


def _spider_links(spider, response) -> list:
    """The spider's own link step; its seen-links set carries over from page to page, as in a crawl."""
    return list(spider._links(response, "article"))


def _langdetect(text: str) -> str | None:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        return detect(text)
    except LangDetectException:
        return None


def _round_trip(value):
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _dates(meta, tree, options, url: str):
    """The title, date and author steps of extract_article."""
    from pipelines.extraction import article as ex

    title = ex._title(meta, options.hints)
    title_element = ex._find_title_element(tree, title)
    dateline, dateline_element = None, None
    if not (meta.published and ex.parse_iso_date(meta.published, persian=ex._persian(meta))) or not meta.author:
        dateline, dateline_element = ex._dateline(tree, title_element, options.fetched_at)
    author, _ = ex._byline(meta, tree, dateline_element, ex._parse_now(options.fetched_at))
    return title, ex._published(meta, dateline, options, url), author


def _safety_net(text: str, words: int, pruned_prose: int, body: bytes, url: str, min_words: int) -> str | None:
    """extract_article's safety net: the check on every page, trafilatura on the unpruned page on the
    suspicious ones; the better raw body, or None."""
    from pipelines.extraction import article as ex, safety_net

    lines = text.split("\n")
    if not safety_net.suspicious(words, lines, pruned_prose, min_words):
        return None
    return ex._unpruned_body(body, "text/html", url, words, safety_net.prose_lines(lines))[1]


def _clean(raw: str, title, meta, url: str, min_words: int):
    """The body cleaning, canonical URL and verdict steps of extract_article."""
    from pipelines.extraction import article as ex
    from pipelines.similarity.urls import canonical_url, same_site

    text = "\n".join(ex._clean_lines(raw, title)[0])
    words = ex._words(text)
    canonical = url
    for declared in (meta.canonical, meta.og_url):
        if declared:
            absolute = urljoin(url, declared)
            if same_site(absolute, url):
                canonical = absolute
                break
    return text, words, canonical_url(canonical), ex._article_verdict(meta, text, words, min_words)


def _exact_duplicate(urls: dict, hashes: dict, url: str, canonical: str, digest: str | None, keep: bool, number: int) -> bool:
    """DedupPipeline's dict lookups: URL, canonical URL, content hash."""
    known = urls.get(url) or urls.get(canonical) or hashes.get(digest)
    if known is None and keep:
        urls[url] = urls[canonical] = number
        hashes[digest] = number
        return False
    return known is not None


def sample_pages(site: Path, sample: int) -> list[tuple[int, bytes, dict]]:
    plan = [json.loads(line) for line in (site / "plan.jsonl").open(encoding="utf-8")]
    step = max(1, len(plan) // sample)
    chosen = plan[::step][:sample]
    return [(e["id"], (site / "articles" / f"{e['id']}.html").read_bytes(), e) for e in chosen]


def measure(site: Path, sample: int = 300, origin: str = "http://127.0.0.1:8000") -> dict:
    import lxml.html
    import trafilatura
    from scrapy.http import HtmlResponse, Request

    from crawler.spiders.news import NewsSpider
    from pipelines.extraction import article as ex, safety_net
    from pipelines.archive.database import insert_rows, open_archive
    from pipelines.text.boilerplate import prune_boilerplate
    from pipelines.text.encoding import decode_html
    from pipelines.similarity.fingerprints import tokens_hash
    from pipelines.text.language import detect_language
    from pipelines.text.metadata import read_metadata
    from pipelines.text.normalize import tokens
    from pipelines.extraction.records import fingerprints, make_record
    from pipelines.archive.warc import WarcWriter

    try:
        from pipelines.similarity import near_duplicates as nd
    except ImportError:  # the module is not in every version
        nd = None

    pages = sample_pages(site, sample)
    # warm-up, not timed: one-time loads (langdetect profiles, justext stoplists) amortize over a crawl
    for _, body, entry in [p for p in pages if p[2]["kind"] == "foreign"][:2] + pages[:5]:
        try:
            make_record(body, f"{origin}/articles/{entry['id']}.html", "text/html", min_words=40)
        except ex.ExtractionError:
            pass
    _langdetect("warm-up: the naive pipeline's langdetect loads its profiles once")
    spider = NewsSpider(source=str(site / "bench.toml"), base_url=origin)
    spider._max_depth = 6  # the project's DEPTH_LIMIT
    costs: dict[str, float] = defaultdict(float)  # CPU seconds (time.process_time): robust to a busy machine
    wall: dict[str, float] = defaultdict(float)  # time.perf_counter
    mismatches: list[str] = []
    records: list[dict] = []
    scratch = Path(tempfile.mkdtemp(prefix="arshif-stages-"))
    db = open_archive(scratch / "archive.db")
    index = nd.open_index(open_archive(scratch / "near.db")) if nd else None
    warc = WarcWriter(scratch / "warc", prefix="stages")
    seen_urls: dict[str, int] = {}
    seen_hashes: dict[str, int] = {}
    batch: list[dict] = []
    suspicious_pages = 0

    def timed(name: str, func, *args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        value = func(*args, **kwargs)
        costs[name] += time.process_time() - cpu
        wall[name] += time.perf_counter() - start
        return value

    for number, (page_id, body, entry) in enumerate(pages, 1):
        url = f"{origin}/articles/{page_id}.html"
        fetched_at = "2026-01-01T00:00:00+00:00"
        options = ex.ExtractOptions(fetched_at=fetched_at)

        # -- reactor: WARC, links, requests ------------------------------------------
        timed("warc write", warc.write_exchange, url, "200 OK", [("Content-Type", "text/html")], body,
              request_method="GET", request_headers=[("User-Agent", "Arshif")], protocol="HTTP/1.1",
              extra={"WARC-Arshif-Role": "article", "WARC-Arshif-Source": "bench"})
        response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html"},
                                request=Request(url, meta={"depth": 1}))
        timed("spider links", _spider_links, spider, response)

        # -- worker: the steps of extract_article -------------------------------------
        timed("pickle to/from pool", _round_trip, (body, url, "text/html", "bench", fetched_at, (), {}, 40))
        text_html, _ = timed("decode", decode_html, body, "text/html")
        text_html = text_html.replace("\x00", "")
        tree = timed("parse", lxml.html.document_fromstring, text_html, parser=ex._HTML_PARSER)
        meta = timed("metadata", read_metadata, tree)
        pruned_prose = timed("prune", prune_boilerplate, tree, ())

        title, published, author = timed("title+dates+author", _dates, meta, tree, options, url)
        raw_text = timed("body (trafilatura)", ex._body_text, tree, url)

        text, words, canonical, verdict = timed("clean+verdict", _clean, raw_text, title, meta, url, options.min_words)
        suspicious_pages += safety_net.suspicious(words, text.split("\n"), pruned_prose, options.min_words)
        better = timed("safety net", _safety_net, text, words, pruned_prose, body, url, options.min_words)
        if better is not None:
            text, words, canonical, verdict = timed("safety net", _clean, better, title, meta, url, options.min_words)
        language = timed("language", detect_language, f"{title or ''}\n{text}")
        words_of_text = timed("fingerprints", tokens, text) if text else []
        digest = timed("fingerprints", tokens_hash, words_of_text) if text else None
        computed = timed("fingerprints", fingerprints, title, words_of_text)
        record = {"url": url, "canonical_url": canonical, "title": title, "text": text, "author": author,
                  "published": published, "language": language[0], "content_hash": digest, "word_count": words,
                  "is_article": verdict[0]}
        timed("pickle to/from pool", _round_trip, (record, None))

        reference = make_record(body, url, "text/html", source="bench", fetched_at=fetched_at, min_words=40)
        differing = [k for k in record if k != "language" and record[k] != reference.get(k)]
        if language[0] != reference["language"]:
            differing.append("language")
        if differing:
            mismatches.append(f"{page_id}: {', '.join(differing)}")

        # -- reactor: dedup and storage ----------------------------------------------
        keep = verdict[0] and language[0] == "ar"
        duplicate = timed("dedup exact", _exact_duplicate, seen_urls, seen_hashes, url, canonical, digest, keep, number)
        if nd is not None and text:
            sig = timed("near-dup LSH", nd.Signature.from_bytes, computed["minhash"], computed["shingles"],
                        computed["bands"], computed["shingle_hashes"])
            timed("near-dup LSH", index.matches, sig)  # the story it joins: near copies are stored too
            if not duplicate:
                timed("near-dup LSH", index.add, number, sig)
        if verdict[0] and language[0] == "ar" and not duplicate:
            batch.append({**reference, "fingerprints": computed, "id": number, "source": "bench", "crawl_id": 1, "fetched_at": fetched_at,
                          "warc_file": "x.warc.gz", "warc_offset": 0, "warc_length": len(body)})
            records.append(record)
        if len(batch) >= 50 or number == len(pages):
            timed("storage", insert_rows, db, batch, [], [], [])
            batch = []

        # -- the naive pipeline's two steps, for comparison -------------------------------
        naive = timed("naive: bare_extraction", trafilatura.bare_extraction, body.decode("utf-8", "replace"), url=url,
                      with_metadata=True)
        naive_text = (naive.text if naive is not None else "") or ""
        if naive_text:
            timed("naive: langdetect", _langdetect, naive_text)

    warc.close()
    if index is not None:
        timed("near-dup LSH", index.flush)
    count = len(pages)
    return {
        "sample": count,
        "stored": len(records),
        "suspicious": suspicious_pages,  # pages the safety net ran trafilatura again on
        "ms_per_page": {name: round(costs.get(name, 0.0) * 1000 / count, 2) for name, _, _ in STAGES if name in costs},
        "wall_ms_per_page": {name: round(wall.get(name, 0.0) * 1000 / count, 2) for name, _, _ in STAGES if name in wall},
        "where": {name: where for name, where, _ in STAGES},
        "what": {name: what for name, _, what in STAGES},
        "replay_mismatches": mismatches,
        "scratch": str(scratch),
    }


def format_table(result: dict) -> str:
    lines = [(f"Stage costs on {result['sample']} pages, one process, CPU ms per page (wall ms beside it); the replay "
              f"differs from extract_article on {len(result['replay_mismatches'])} pages; the safety net's second "
              f"pass ran on {result.get('suspicious', 0)}"),
             f"{'stage':<22} {'CPU ms':>7} {'wall ms':>8}  {'runs in':<12} what"]
    totals: dict[str, float] = defaultdict(float)
    for name, ms in result["ms_per_page"].items():
        if name not in result["where"]:
            continue
        where = result["where"][name]
        totals[where] += ms
        lines.append(f"{name:<22} {ms:>7.2f} {result['wall_ms_per_page'][name]:>8.2f}  {where:<12} {result['what'][name]}")
    lines.append("CPU totals: " + ", ".join(f"{where} {ms:.1f} ms" for where, ms in totals.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench.throughput.generate import ensure_site

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--site", help="a generated site (default /tmp/arshif-bench/site-N)")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    site, _ = ensure_site(args.pages, args.site)
    result = measure(site, args.sample)
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
