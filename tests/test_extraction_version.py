"""EXTRACTION_VERSION is bumped whenever what a page yields changes (issue 18, item 8).

Failed pages (extraction_failed, not_article, too_old) are fetched again when the
version changes, so a change to the records without a bump would leave them lost.
The hash below covers every record the demo site's article pages yield; when this
test fails, bump `pipelines/extraction/version.py` and pin the new hash with it.
"""

from __future__ import annotations

import hashlib
import json

from crawler.demo.server import DEMO_SITE
from pipelines.extraction.article import ExtractionError
from pipelines.extraction.records import make_record
from pipelines.extraction.version import EXTRACTION_VERSION

ORIGIN = "http://127.0.0.1:8642"
# (EXTRACTION_VERSION, hash of the demo records): change both in the commit that changes the records
PINNED = (2, "f7f1b4988a83362f405f")


def records_digest() -> str:
    digest = hashlib.sha256()
    for page in sorted((DEMO_SITE / "articles").glob("*.html")):
        body = page.read_bytes().replace(b"__BASE_URL__", ORIGIN.encode())
        try:
            record = make_record(body, f"{ORIGIN}/articles/{page.name}", "text/html", source="demo")
        except ExtractionError as exc:
            record = {"error": str(exc)}
        digest.update(json.dumps([page.name, record], ensure_ascii=False, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


def test_the_version_is_bumped_with_the_records():
    current = (EXTRACTION_VERSION, records_digest())
    assert current == PINNED, (
        f"the demo site's records changed (now {current[1]}): bump EXTRACTION_VERSION in "
        f"pipelines/extraction/version.py and set PINNED = ({EXTRACTION_VERSION + 1}, {current[1]!r}) here"
        if current[0] == PINNED[0] else f"EXTRACTION_VERSION changed: pin PINNED = {current!r}"
    )
