"""Serve the bundled demo site (or any folder of saved pages) on 127.0.0.1.

Static files, with `__BASE_URL__` in .html/.xml/.txt/.rss replaced by the
server's own origin, and Content-Type chosen by extension with no charset, so
pages must declare their encoding themselves, as many Arabic sites do. ETag and
Last-Modified are sent and If-None-Match answered with 304, as real sites do.
"""

from __future__ import annotations

import hashlib
import threading
import time
from email.utils import formatdate
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEMO_SITE = Path(__file__).resolve().parent / "site"

_TYPES = {
    ".html": "text/html",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".txt": "text/plain",
    ".json": "application/json",
}
_TEMPLATED = {".html", ".xml", ".rss", ".txt"}


class _Handler(SimpleHTTPRequestHandler):
    root: Path = DEMO_SITE
    extra_routes: dict = {}
    delay: float = 0.0  # seconds per request: a slow site, for kill-and-resume tests

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):
        if self.delay:
            time.sleep(self.delay)
        path = unquote(urlsplit(self.path).path)
        route = self.extra_routes.get(path)
        if route is not None:
            result = route(self) if callable(route) else route
            if result is None:  # the route answered (or dropped the connection) itself
                return None
            status, headers, body = result
            return self._send(status, headers, body, head)
        if path.endswith("/"):
            path += "index.html"
        file = (self.root / path.lstrip("/")).resolve()
        if self.root not in file.parents or not file.is_file():
            return self._send(404, {"Content-Type": "text/html"}, b"<html><body>404</body></html>", head)
        body = file.read_bytes()
        if file.suffix in _TEMPLATED:
            body = body.replace(b"__BASE_URL__", self.server.origin.encode("ascii"))
        content_type = _TYPES.get(file.suffix, "application/octet-stream")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {
            "Content-Type": content_type,
            "ETag": etag,
            "Last-Modified": formatdate(file.stat().st_mtime, usegmt=True),
        }
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, {"ETag": etag}, b"", head=True)
        return self._send(200, headers, body, head)

    def _send(self, status: int, headers: dict, body: bytes, head: bool):
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304 and "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (size limits, timeouts)


class SiteServer:
    """A real HTTP server in a thread: `with SiteServer() as site: site.origin`."""

    def __init__(self, root: Path = DEMO_SITE, port: int = 0, extra_routes: dict | None = None, delay: float = 0.0,
                 keep_alive: bool = False):
        """``keep_alive``: answer in HTTP/1.1 and keep connections open, as news sites do (the benchmark's site)."""
        attributes = {"root": Path(root).resolve(), "extra_routes": extra_routes or {}, "delay": delay}
        if keep_alive:
            attributes["protocol_version"] = "HTTP/1.1"
        handler = type("Handler", (_Handler,), attributes)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.httpd.origin = self.origin
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "SiteServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    """`python -m crawler.demo.server [PORT]`: serve the demo site until Ctrl-C."""
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8642
    with SiteServer(port=port) as site:
        print(f"Serving the demo site on {site.origin}/ (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
