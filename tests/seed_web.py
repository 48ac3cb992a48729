"""A local stand-in for the web the shipped seeds name: their real hosts, generated Arabic pages.

Every shipped source file (seeds/*.toml) is crawled AS SHIPPED, with no --base-url:
the test runs inside a network and mount namespace it creates, where /etc/hosts
maps each host a seed names to one address on the namespace's own loopback
device, and one server answers there on :80 and on :443 (TLS with a certificate
made for the run; Scrapy does not verify certificates). The address is a
globally routed one (PUBLIC_ADDRESS), so the crawl's SSRF guard lets it through
exactly as it would a real site: nothing about the seeds is loosened.

What each seed's copy holds is derived from the seed itself: example article
URLs are generated from its first `article_allow` pattern (and checked against
all its allow/deny patterns and allowed_domains), one linked from each start
page, one listed in each feed, one in each sitemap (behind robots.txt where the
seed reads its sitemaps from there). The article text is original generated
Arabic (bench/throughput/bank.py), never a third-party page.
"""

from __future__ import annotations

import html
import random
import re
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

try:  # Python 3.11+
    import re._constants as sre_constants
    import re._parser as sre_parse
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants
    import sre_parse

from bench.throughput import bank
from crawler.sources import Source

# A globally routed address (IANA: not special-purpose) that the namespace gives its loopback device;
# nothing leaves the namespace, which has no other interface.
PUBLIC_ADDRESS = "11.0.0.1"
DOWN_ADDRESS = "11.0.0.2"  # on the loopback device too, but nothing listens there: connection refused

_POOL = "abcdefghijklmnopqrstuvwxyz123456789-_"
_SECTIONS = list(bank.SECTIONS)


def _member(char: str, items) -> bool:
    """Whether one character belongs to a parsed [...] class (LITERAL, RANGE, CATEGORY, NEGATE items)."""
    negate, found = False, False
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            found |= ord(char) == arg
        elif op is sre_constants.RANGE:
            found |= arg[0] <= ord(char) <= arg[1]
        elif op is sre_constants.CATEGORY:
            name = str(arg)
            found |= ("DIGIT" in name and char.isdigit()) or ("WORD" in name and (char.isalnum() or char == "_")) \
                or ("SPACE" in name and char.isspace())
            if "NOT_" in name:
                found = not found
    return found != negate


def _chars(items, variant: int) -> str:
    allowed = [char for char in _POOL if _member(char, items)]
    if not allowed:
        raise ValueError(f"no URL-safe character in {items}")
    return allowed[variant % len(allowed)]


def _walk(parsed, variant: int) -> str:
    out = []
    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            out.append(next(c for c in _POOL if ord(c) != arg))
        elif op is sre_constants.ANY:
            out.append(_POOL[variant % 26])
        elif op is sre_constants.IN:
            out.append(_chars(arg, variant))
        elif op is sre_constants.BRANCH:
            out.append(_first(arg[1], variant))
        elif op is sre_constants.SUBPATTERN:
            out.append(_walk(arg[-1], variant))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _high, item = arg
            out.append(_walk(item, variant) * max(low, 1))  # optional parts present: https, www.
        elif op is sre_constants.AT:
            continue  # ^ $ \b: no text
        else:
            raise ValueError(f"no example for regex node {op}")
    return "".join(out)


def _first(alternatives, variant: int) -> str:
    """The first alternative that has a URL-safe example (`(?:[?#]|$)`: the end)."""
    for alternative in alternatives:
        try:
            return _walk(alternative, variant)
        except ValueError:
            continue
    raise ValueError(f"no alternative of {alternatives} has a URL-safe example")


def example_url(pattern: str, variant: int = 0) -> str:
    """A URL the pattern matches, deterministic; `variant` changes every free character."""
    return _walk(sre_parse.parse(pattern), variant)


def _allowed(host: str, domains) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def article_urls(source: Source, count: int) -> list[str]:
    """`count` distinct article URLs of this source: matching its article_allow, no article_deny, on its domains."""
    urls = []
    for variant in range(count):
        url = example_url(source.article_allow[0], variant)
        problems = [
            "matches no article_allow" if not any(re.search(p, url) for p in source.article_allow) else "",
            "matches an article_deny" if any(re.search(p, url) for p in source.article_deny) else "",
            "is outside allowed_domains" if not _allowed(urlsplit(url).hostname or "", source.allowed_domains) else "",
            "repeats an earlier example" if url in urls else "",
        ]
        if any(problems):
            raise ValueError(f"{source.name}: example {url} " + ", ".join(p for p in problems if p))
        urls.append(url)
    return urls


@dataclass
class Article:
    url: str
    title: str
    paragraphs: list[str]
    published: datetime
    found_by: str  # start page, feed, sitemap


@dataclass
class SeedSite:
    """One seed's local copy: its articles and every document, keyed by (host, path?query)."""

    source: Source
    articles: list[Article] = field(default_factory=list)
    documents: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)

    @property
    def hosts(self) -> set[str]:
        return {host for host, _ in self.documents}


def _key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.hostname or "", (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _article_html(article: Article, site_title: str) -> bytes:
    esc = html.escape
    body = "".join(f"<p>{esc(p)}</p>\n" for p in article.paragraphs)
    stamp = article.published.isoformat()
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{esc(article.title)} | {esc(site_title)}</title>
<meta property="article:published_time" content="{stamp}"></head>
<body><nav><a href="/">الرئيسية</a> <a href="/">أخبار</a> <a href="/">اقتصاد</a> <a href="/">رياضة</a></nav>
<article><h1>{esc(article.title)}</h1><time datetime="{stamp}">{article.published:%Y-%m-%d}</time>
{body}</article>
<footer>جميع الحقوق محفوظة © {esc(site_title)}</footer></body></html>""".encode()


def _listing_html(title: str, links: list[Article]) -> bytes:
    items = "".join(f'<li><a href="{html.escape(a.url)}">{html.escape(a.title)}</a></li>' for a in links)
    return (f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
            f"<body><h1>{html.escape(title)}</h1><ul>{items}</ul></body></html>").encode()


def _feed_xml(title: str, link: str, items: list[Article]) -> bytes:
    entries = "".join(
        f"<item><title>{html.escape(a.title)}</title><link>{html.escape(a.url)}</link>"
        f"<pubDate>{a.published:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>" for a in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{html.escape(title)}</title>'
            f"<link>{html.escape(link)}</link>{entries}</channel></rss>").encode()


def _sitemap_xml(items: list[Article]) -> bytes:
    entries = "".join(f"<url><loc>{html.escape(a.url)}</loc><lastmod>{a.published:%Y-%m-%dT%H:%M:%S+00:00}</lastmod></url>"
                      for a in items)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>").encode()


def build_site(source: Source, now: datetime | None = None) -> SeedSite:
    """A start page linking one article, a feed listing another, a sitemap a third (each that the seed has)."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    places = ["start page", *(["feed"] if source.feeds else []), *(["sitemap"] if source.sitemaps else [])]
    site = SeedSite(source)
    rng = random.Random(source.name)
    for index, (url, found_by) in enumerate(zip(article_urls(source, len(places)), places)):
        section = _SECTIONS[index % len(_SECTIONS)]
        site.articles.append(Article(url, bank.arabic_headline(rng, section), bank.arabic_paragraphs(rng, section, 6),
                                     now - timedelta(hours=index + 1), found_by))
    html_type, xml_type = "text/html; charset=utf-8", "application/xml"
    by_place = {place: [a for a in site.articles if a.found_by == place] for place in places}
    for url in source.start_urls:
        site.documents[_key(url)] = (html_type, _listing_html(source.title, by_place["start page"]))
    for url in source.feeds:
        site.documents[_key(url)] = ("application/rss+xml", _feed_xml(source.title, source.site_url, by_place["feed"]))
    for url in source.sitemaps:
        host, path = _key(url)
        if path == "/robots.txt":
            sitemap = f"{urlsplit(url).scheme}://{host}/sitemap-local-copy.xml"
            site.documents[(host, path)] = ("text/plain", f"User-agent: *\nAllow: /\nSitemap: {sitemap}\n".encode())
            site.documents[_key(sitemap)] = (xml_type, _sitemap_xml(by_place["sitemap"]))
        else:
            site.documents[(host, path)] = (xml_type, _sitemap_xml(by_place["sitemap"]))
    for article in site.articles:
        site.documents[_key(article.url)] = (html_type, _article_html(article, source.title))
    for host in list(site.hosts):
        site.documents.setdefault((host, "/robots.txt"), ("text/plain", b"User-agent: *\nAllow: /\n"))
    return site


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        found = self.server.documents.get((host, self.path))
        status, (kind, body) = (200, found) if found else (404, ("text/plain", b"not here"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SeedWeb:
    """Serve every site's documents on ADDRESS:80 (HTTP) and ADDRESS:443 (HTTPS with the given certificate)."""

    def __init__(self, sites: list[SeedSite], address: str, cert: Path, key: Path):
        self.documents = {k: v for site in sites for k, v in site.documents.items()}
        self.address, self.cert, self.key = address, cert, key
        self.servers: list[ThreadingHTTPServer] = []

    def __enter__(self) -> SeedWeb:
        for port in (80, 443):
            server = ThreadingHTTPServer((self.address, port), _Handler)
            server.daemon_threads = True
            server.documents = self.documents
            if port == 443:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(self.cert, self.key)
                server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
        return self

    def __exit__(self, *exc) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def self_signed(folder: Path, hosts: list[str]) -> tuple[Path, Path]:
    """A certificate for these hosts (cryptography, a Scrapy dependency), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arshif seed web")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
