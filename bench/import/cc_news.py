"""A WARC in Common Crawl's CC-NEWS layout, generated: warcinfo, then request/response/metadata per page.

Most pages are not Arabic (English news pages of ~25 KB from many hosts), as in
CC-NEWS; the Arabic ones are bench/throughput's generated articles (originals,
exact and near copies, English and Persian bodies in the Arabic template, photo
galleries) on one host no seed covers. Deterministic for a seed. Written with
warcio's own WARCWriter, never Arshif's.
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench.throughput import bank
from bench.throughput.generate import article_html, make_plan

ARABIC_HOST = "https://www.almarsad-news.example"
OTHER_HOSTS = tuple(f"https://{name}" for name in (
    "www.dailyplanet.example", "news.metro-times.example", "www.le-quotidien.example", "www.bbc.com",
    "edition.cnn-world.example", "www.aljazeera.com", "www.tagesblatt.example", "www.herald.example"))
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def other_page(rng: random.Random, index: int, filler_kb: int = 0) -> tuple[str, bytes]:
    """(URL, HTML) of a non-Arabic news page: English text, ~25 KB with its boilerplate, and `filler_kb` KB of
    inline image data (base64 of random bytes: real pages' inline images, fonts and JSON hardly compress either;
    without it a generated page gzips 10:1 and a CC-NEWS-sized file of records is 26 MB, not ~1 GB)."""
    title, paragraphs = bank.foreign_story(rng, "en", rng.randint(6, 12))
    if filler_kb:
        import base64

        image = base64.b64encode(rng.randbytes(filler_kb * 1024 * 3 // 4)).decode()
        paragraphs = [*paragraphs[:2], None, *paragraphs[2:]]
    menu = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(40))
    script = "<script>" + "var x=1;" * rng.randint(800, 1600) + "</script>"
    body = "".join(f"<p>{escape(p)}</p>" if p is not None else f'<img alt="" src="data:image/jpeg;base64,{image}">'
                   for p in paragraphs)
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>{script}</head>'
            f"<body><nav><ul>{menu}</ul></nav><article><h1>{escape(title)}</h1>{body}</article>"
            f"<footer>&copy; 2024 News Corp</footer></body></html>")
    host = OTHER_HOSTS[index % len(OTHER_HOSTS)]
    return f"{host}/news/2024/{index:06d}-{rng.randint(1000, 9999)}.html", html.encode("utf-8")


def arabic_pages(count: int, seed: int = 1):
    """(URL, HTML, plan entry) of `count` generated Arabic-site article pages."""
    plan = make_plan(count, seed)
    for entry in plan:
        html = article_html(plan, entry, seed).replace("__BASE_URL__", ARABIC_HOST)
        yield f"{ARABIC_HOST}/articles/{entry.id}.html", html.encode("utf-8"), entry


def write_record_triplet(writer: WARCWriter, url: str, body: bytes, date: str, status: str = "200 OK",
                         content_type: str = "text/html; charset=UTF-8", extra_headers=()) -> None:
    """request, response, metadata: what CC-NEWS holds for each fetched page."""
    path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    request = writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", url.split("/")[2]), ("User-Agent", "CCBot/2.0")],
                                      is_http_request=True),
        warc_headers_dict={"WARC-Date": date})
    response = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body),
        http_headers=StatusAndHeaders(status, [("Content-Type", content_type), *extra_headers], protocol="HTTP/1.1"),
        warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": "127.0.0.1"})
    metadata = writer.create_warc_record(
        url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 212\r\ncharset-detected: UTF-8\r\n"),
        warc_content_type="application/warc-fields", warc_headers_dict={"WARC-Date": date})
    for record in (request, response, metadata):
        writer.write_record(record)


def write_cc_news(path: Path, arabic: int, other: int, seed: int = 1, filler_kb: int = 0) -> dict:
    """Write the WARC (gzipped per record); return what is in it: {"arabic_urls": [...], "records": n, ...}.
    Pages are made one at a time as they are written (a ~1 GB file is never in memory)."""
    rng = random.Random(seed)
    arabic_html = [("ar", url, html) for url, html, _ in arabic_pages(arabic, seed)]
    pages = arabic_html + [("other", k, None) for k in range(other)]
    rng.shuffle(pages)
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record(Path(path).name, {"software": "bench/import", "format": "WARC File Format 1.1"}))
        for k, (kind, url, html) in enumerate(pages):
            if kind == "other":
                url, html = other_page(random.Random(seed * 1_000_003 + url), url, filler_kb)
                pages[k] = (kind, url, None)
            date = (START + timedelta(seconds=37 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")
            write_record_triplet(writer, url, html, date)
    return {"records": 1 + 3 * len(pages), "arabic_urls": [url for kind, url, _ in pages if kind == "ar"],
            "pages": len(pages), "bytes": Path(path).stat().st_size,
            "last_date": (START + timedelta(seconds=37 * (len(pages) - 1))).strftime("%Y-%m-%dT%H:%M:%SZ")}
