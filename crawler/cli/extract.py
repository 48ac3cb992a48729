"""`arshif extract FILE`: print the record Arshif would store for a saved page."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    extract = sub.add_parser("extract", help="print the record Arshif would store for a saved page",
                             description="Example: arshif extract page.html --url https://example.com/news/1")
    extract.add_argument("file")
    extract.add_argument("--url", help="the page's URL (default: the file's file:// URL)")
    extract.add_argument("--source", help="source name to record")
    extract.add_argument("--content-type", help="the Content-Type header the page was served with")
    extract.add_argument("--compact", action="store_true", help="one line of JSON")
    extract.set_defaults(func=cmd_extract)


def cmd_extract(args) -> int:
    """The crawl's checks first (size, binary data: pipelines.extraction.worker.page_problem), then its extraction."""
    from crawler import settings
    from pipelines.extraction.article import ExtractionError
    from pipelines.extraction.records import make_record
    from pipelines.extraction.worker import page_problem

    path = Path(args.file)
    limit = settings.DOWNLOAD_MAXSIZE  # the crawl refuses larger pages before they reach extraction
    try:
        size = path.stat().st_size
        if size > limit:  # refused without reading it
            print(f"arshif extract: {path}: refused: {size:,} bytes, over the {limit:,}-byte page limit "
                  f"(DOWNLOAD_MAXSIZE); the crawl would not download it", file=sys.stderr)
            return 1
        with open(path, "rb") as file:
            body = file.read(limit + 1)
    except OSError as exc:
        print(f"arshif extract: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    problem = page_problem(body, limit)
    if problem:
        print(f"arshif extract: {path}: refused: {problem}; the crawl refuses it too", file=sys.stderr)
        return 1
    url = args.url or path.resolve().as_uri()
    try:
        record = make_record(body, url, args.content_type, source=args.source)
    except ExtractionError as exc:
        print(f"arshif extract: {path}: {exc}", file=sys.stderr)
        return 1
    json.dump(record, sys.stdout, ensure_ascii=False, indent=None if args.compact else 2)
    print()
    return 0
