"""What each process of a crawl imports: memory per process is a target (bench/throughput)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _top_level_modules(*modules: str) -> set[str]:
    code = f"import sys; {'; '.join(f'import {m}' for m in modules)}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return set(out.stdout.split())


def test_the_crawl_process_does_not_import_scipy():
    """datasketch imports scipy (~45 MB per process); the crawl's modules compute MinHash without it."""
    loaded = _top_level_modules("crawler.cli.main", "pipelines.extraction.records", "pipelines.dedup", "pipelines.extract")
    assert not loaded & {"scipy", "datasketch"}


def test_an_extraction_worker_imports_no_crawler_or_database_code():
    """The pool's entry point (pipelines.extraction.worker.extract_page) loads extraction only: ~50 MB less per worker."""
    from pipelines.extract import ExtractionPipeline  # noqa: F401  (the pipeline submits this function)
    from pipelines.extraction.worker import extract_page

    assert extract_page.__module__ == "pipelines.extraction.worker"
    loaded = _top_level_modules("pipelines.extraction.worker")
    assert not loaded & {"scrapy", "twisted", "sqlite_utils", "datasette", "scipy", "crawler"}
    assert {"trafilatura", "lxml", "numpy"} <= loaded


def test_dedup_maps_and_seen_links_keep_hashes_not_strings():
    """DedupPipeline's URL and hash maps and the spider's seen links answer as before, holding ints only."""
    from crawler.spiders.news import SeenUrls
    from pipelines.dedup import ByHash

    urls = [f"https://news.example/ar/{n}/خبر-{n}.html" for n in range(2000)]
    by_hash = ByHash()
    for number, url in enumerate(urls):
        by_hash[url] = number
    by_hash.setdefault(urls[0], -1)
    assert [by_hash.get(url) for url in urls] == list(range(2000)) and by_hash[urls[5]] == 5
    assert urls[7] in by_hash and "https://news.example/other" not in by_hash
    assert by_hash.get("https://news.example/other", "none") == "none"
    assert all(isinstance(key, int) for key in dict.keys(by_hash))
    seen = SeenUrls()
    for url in urls[:1000]:
        seen.add(url)
    assert all(url in seen for url in urls[:1000]) and not any(url in seen for url in urls[1000:])
    assert None not in seen and all(isinstance(item, int) for item in seen.recent)  # crawler/frontier.py: hashes only
