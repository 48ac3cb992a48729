"""Frontier memory: a site listing 5 M URLs in 30 sitemaps, and a link fan-out trap, crawled with max_pages = 300.

    python -m bench.frontier.run                       # this checkout
    python -m bench.frontier.run --baseline /tmp/main  # and a checkout of main, same session

Both sites are served on 127.0.0.1 by this process (a ThreadingHTTPServer),
generated lazily: `sitemaps` has a robots.txt with 30 `Sitemap:` lines, each a
gzipped sitemap (application/x-gzip, as news sites serve `.xml.gz`) of
URLS // 30 article URLs with <lastmod> (~16 MB of XML each), made when the
server starts and kept compressed, so a crawl never waits on the generator; `fanout` has pages that each link FANOUT new article URLs (every
article page too). Article pages are short HTML. Each crawl runs
`arshif crawl SOURCE --local` in a child (bench/archive_size/measure.py) and
reports its peak RSS (VmHWM) and wall time; a child past --limit-mb is killed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.archive_size.measure import run

ROOT = Path(__file__).resolve().parents[2]
SITEMAPS = 30
URLS = 5_000_000
FANOUT = 5_000
MAX_PAGES = 300


class Site(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cache: dict[int, bytes] = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_GET(self):
        origin = f"http://{self.headers['Host']}"
        path = self.path
        if path == "/robots.txt":
            lines = "".join(f"Sitemap: {origin}/sitemap-{n}.xml.gz\n" for n in range(SITEMAPS))
            return self._send(f"User-agent: *\nAllow: /\n{lines}".encode(), "text/plain")
        if path.startswith("/sitemap-"):
            return self._send(self._sitemap(int(path.split("-")[1].split(".")[0]), origin), "application/x-gzip")
        if path == "/" or path.startswith("/news/"):
            key = path.strip("/").replace("/", "-") or "home"
            links = "".join(f'<a href="/news/{key}-{k}.html">خبر {k}</a>' for k in range(FANOUT)) if self.server.fanout else ""
            body = f"<html><head><title>{key}</title></head><body><p>صفحة {key}</p>{links}</body></html>"
            return self._send(body.encode(), "text/html; charset=utf-8")
        self.send_error(404)

    def _sitemap(self, n: int, origin: str) -> bytes:
        with self.lock:
            if n not in self.cache:
                per = URLS // SITEMAPS
                entries = "".join(f"<url><loc>{origin}/news/{n * per + k}.html</loc><lastmod>2025-06-01</lastmod></url>"
                                  for k in range(per))
                xml = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
                self.cache[n] = gzip.compress(xml.encode(), compresslevel=1)
            return self.cache[n]

    def _send(self, body: bytes, kind: str):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(fanout: bool) -> ThreadingHTTPServer:
    """The site in a thread; the sitemaps are made (and gzipped) before the crawl, not while it waits for them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    server.daemon_threads = True
    server.fanout = fanout
    Site.cache.clear()
    if not fanout:
        for n in range(SITEMAPS):
            Site._sitemap(Site, n, f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def source(folder: Path, name: str, origin: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nsite_url = "{origin}/"\nstart_urls = ["{origin}/"]\n'
        "article_allow = ['/news/']\nfollow_allow = ['/$']\nallow_loopback = true\n"
        f"[limits]\nmax_pages = {MAX_PAGES}\n",
        encoding="utf-8",
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (e.g. main)")
    parser.add_argument("--limit-mb", type=int, default=3000)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--sites", default="sitemaps,fanout")
    args = parser.parse_args()
    trees = ([("baseline", args.baseline)] if args.baseline else []) + [("this", ROOT)]
    results = []
    for site in args.sites.split(","):
        server = serve(fanout=site == "fanout")
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        with tempfile.TemporaryDirectory(prefix="arshif-frontier-") as folder:
            toml = source(Path(folder), site, origin)
            for label, tree in trees:
                db = Path(folder) / f"{label}.db"
                result = run(["crawl", str(toml), "--db", str(db), "--local", "--log-level", "WARNING"], cwd=tree,
                             limit_mb=args.limit_mb, timeout=args.timeout)
                result.update(site=site, code=label)
                results.append(result)
                print(json.dumps(result, ensure_ascii=False), flush=True)
        server.shutdown()
    print("\n| site | code | peak RSS (MB) | wall (s) | note |\n|---|---|---:|---:|---|")
    for r in results:
        print(f"| {r['site']} | {r['code']} | {r['peak_rss_mb']} | {r['wall_s']} | {r['killed'] or r['tail'][-1][:90] if r['tail'] else ''} |")


if __name__ == "__main__":
    main()
