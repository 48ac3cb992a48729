"""A hostile news site on 127.0.0.1: every fault a real site throws, beside good pages.

`fault_routes(good_pages)` returns SiteServer extra routes; `FAULTS` names each
faulty path with the reason the crawl must count it under (None: the page must
be handled without a fault, e.g. stored despite broken HTML).
"""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time

from crawler.demo.server import DEMO_SITE

HTML = {"Content-Type": "text/html"}
TIMEOUT_SECONDS = 2  # the fault crawl runs with DOWNLOAD_TIMEOUT = 2

GOOD = ["1001", "1002", "1003", "1005", "1006"]  # demo articles served unchanged

# path → the fault reason it must be counted under in crawls.faults
FAULTS = {
    "/articles/timeout.html": "timeout",
    "/articles/reset.html": "connection_lost",
    "/articles/missing.html": "http_404",
    "/articles/loop.html": "redirect_loop",
    "/articles/truncated.html": "truncated_body",
    "/articles/bomb.html": "too_large",
    "/articles/huge.html": "too_large",
}
# redirect to the cloud metadata address: refused (offsite or unsafe) without a connection
METADATA_REDIRECT = "/articles/metadata.html"
# path → the outcome the pipelines must give it
OUTCOMES = {
    "/articles/binary.html": "extraction_failed",
    "/articles/empty.html": "extraction_failed",
    "/articles/layout.html": "not_article",
    "/articles/flaky500.html": "stored",
    "/articles/flaky502.html": "stored",
    "/articles/flaky503.html": "stored",
    "/articles/busy.html": "stored",
    "/articles/broken.html": "stored",
    "/articles/gzipped.html": "stored",  # served gzip-compressed, as most news sites serve pages
    "/articles/wrongcharset.html": "stored",
}
UNSAFE_LINKS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.11.12.13/articles/private.html",
    "file:///etc/passwd",
    "ftp://127.0.0.1/articles/x.html",
]


def _article(number: str) -> bytes:
    return (DEMO_SITE / "articles" / f"{number}.html").read_bytes()


def _flaky(status: int, failures: int, body: bytes, headers: dict | None = None):
    counter = {"n": 0}
    lock = threading.Lock()

    def route(handler):
        with lock:
            counter["n"] += 1
            attempt = counter["n"]
        if attempt <= failures:
            return status, {**HTML, **(headers or {})}, b"<html><body>Service unavailable</body></html>"
        return 200, HTML, body

    return route


def _loop(handler):
    """A redirect loop whose every hop has a new URL, as session-id loops do."""
    from urllib.parse import parse_qs, urlsplit

    hop = int(parse_qs(urlsplit(handler.path).query).get("hop", ["0"])[0])
    return 302, {"Location": f"/articles/loop.html?hop={hop + 1}"}, b""


def _timeout(handler):
    time.sleep(TIMEOUT_SECONDS * 3)
    return 200, HTML, _article("1001")


def _reset(handler):
    # RST instead of a response
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True
    return None


def _truncated(handler):
    body = _article("1007")
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(len(body) * 2))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)
    handler.close_connection = True
    return None


BOMB_MB = 400


def _bomb() -> bytes:
    """~400 MB of HTML in ~400 KB of gzip, built in 1 MB steps."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    chunk = b"0" * (1024 * 1024)
    parts = [packer.compress(b"<html><body>")]
    parts += [packer.compress(chunk) for _ in range(BOMB_MB)]
    parts.append(packer.compress(b"</body></html>") + packer.flush())
    return b"".join(parts)


def _huge(handler):
    size = 50 * 1024 * 1024
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(size))
    handler.end_headers()
    chunk = b"<p>" + b"x" * 65530 + b"</p>"
    try:
        for _ in range(size // len(chunk)):
            handler.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    handler.close_connection = True
    return None


def _broken_html() -> bytes:
    page = _article("1008").decode("utf-8")
    page = page.replace("<p>", "<p><b><i>", 3).replace("</div>", "", 2).replace("</p>", "\x00</p>", 2)
    return page.encode("utf-8")


def _wrong_charset() -> tuple[int, dict, bytes]:
    page = _article("1013").decode("utf-8").replace('<meta charset="utf-8">', "")
    page = page.replace("<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">', 1)
    body = page.encode("cp1256", errors="ignore")
    return 200, {"Content-Type": "text/html; charset=utf-8"}, body


def _listing(origin_paths: list[str]) -> bytes:
    links = "".join(f'<li><a href="{p}">رابط {i}</a></li>' for i, p in enumerate(origin_paths))
    unsafe = "".join(f'<li><a href="{u}">رابط خارجي</a></li>' for u in UNSAFE_LINKS)
    return f'<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>الأخبار</title></head><body><ul>{links}{unsafe}</ul></body></html>'.encode()


GZIPPED = gzip.compress(_article("1014"), mtime=0)


def fault_routes() -> dict:
    good = [f"/articles/{n}.html" for n in GOOD]
    paths = [*good, *FAULTS, *OUTCOMES, METADATA_REDIRECT]
    routes = {
        "/robots.txt": (500, {"Content-Type": "text/plain"}, b"Internal Server Error"),
        "/": (200, HTML, _listing(paths)),
        "/articles/timeout.html": _timeout,
        "/articles/reset.html": _reset,
        "/articles/missing.html": (404, HTML, b"<html><body>Not found</body></html>"),
        "/articles/loop.html": _loop,
        "/articles/truncated.html": _truncated,
        "/articles/bomb.html": (200, {**HTML, "Content-Encoding": "gzip"}, _bomb()),
        "/articles/huge.html": _huge,
        "/articles/metadata.html": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/articles/binary.html": (200, HTML, random.Random(20000).randbytes(20000)),
        "/articles/empty.html": (200, HTML, b""),
        "/articles/layout.html": (200, HTML, "<html><body><div class='new-layout'><a href='/'>الرئيسية</a></div></body></html>".encode()),
        "/articles/flaky500.html": _flaky(500, 2, _article("1009")),
        "/articles/flaky502.html": _flaky(502, 1, _article("1011")),
        "/articles/flaky503.html": _flaky(503, 1, _article("1012")),
        "/articles/busy.html": _flaky(429, 1, _article("1004"), {"Retry-After": "1"}),
        "/articles/broken.html": (200, HTML, _broken_html()),
        "/articles/wrongcharset.html": _wrong_charset(),
        "/articles/gzipped.html": (200, {**HTML, "Content-Encoding": "gzip"}, GZIPPED),
    }
    for number in GOOD:
        routes[f"/articles/{number}.html"] = (200, HTML, _article(number))
    return routes


SOURCE_TOML = """
name = "faults"
site_url = "{origin}/"
start_urls = ["{origin}/"]
allowed_domains = ["127.0.0.1"]
article_allow = ['/articles/']
follow_allow = ['/$']
allow_loopback = true
discover_sitemaps = false
"""
