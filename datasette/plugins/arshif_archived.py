"""Datasette plugin: the stored copy of an article, `/-/archived/<id>`, shown sandboxed.

The page is served as the crawl fetched it, from its WARC record (the `warc/` folder
beside the archive), and it is hostile HTML: it may carry scripts, trackers, forms
and refreshes that call the live site. So:

- `/-/archived/<id>` is Arshif's own page: a banner (what this is, when it was
  fetched, links to the original URL and to the reading view) above an
  `<iframe sandbox>` with no permissions at all (no scripts, no forms, no
  popups, no top navigation, an opaque origin).
- `/-/archived/<id>/page` is the stored HTML with a Content-Security-Policy
  `sandbox` and `default-src 'none'` (inline styles and `data:` images only): the
  browser requests nothing, from the live site or anywhere, even when the page
  is opened on its own. `<meta http-equiv=refresh>` is removed and links open in
  a new window, which the sandbox forbids, so nothing navigates to the live site
  without the reader copying the link. Connection hints (`<link rel=preconnect>`
  and kin) are removed and frames renamed to inert elements: Chromium opens
  connections for those before it applies the CSP.
"""

from __future__ import annotations

import re
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

SQLITE_MAX_INTEGER = 2**63 - 1
TEMPLATE = "arshif_archived.html"
PAGE_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
               "media-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'")
FRAME_POLICY = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
                "form-action 'none'; base-uri 'none'; frame-ancestors 'self'")
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                  "Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "private, max-age=3600"}
_REFRESH = re.compile(rb"<meta\b[^>]*http-equiv\s*=\s*[\"']?\s*refresh[^>]*>", re.IGNORECASE)
# Chromium opens a connection for these before it applies the CSP (measured: a sandboxed page with
# default-src 'none' still preconnected to a <link rel=preconnect> and to an <iframe src>'s host)
_HINTS = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?[^\"'>]*\b(?:preconnect|dns-prefetch|prefetch|prerender|preload|modulepreload)\b[^>]*>",
                    re.IGNORECASE)
_FRAMES = re.compile(rb"<(/?)(iframe|frame|frameset|fencedframe|portal)\b", re.IGNORECASE)
_CHARSET = re.compile(r"charset=([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)


def _reading():
    """The reading-view plugin (arshif_reading.py): datasette registers plugin files under their file names."""
    from datasette.plugins import pm

    return pm.get_plugin("arshif_reading.py")


async def _article(datasette, request) -> tuple:
    db = await _reading().archive_database(datasette, request)
    if db is None:
        raise NotFound("No database with an articles table")
    await datasette.ensure_permissions(
        request.actor, [("view-table", (db.name, "articles")), ("view-database", db.name), "view-instance"])
    article_id = int(request.url_vars["id"])
    if article_id > SQLITE_MAX_INTEGER or not await db.table_exists("articles"):
        raise NotFound(f"No article {article_id}")
    columns = set(await db.table_columns("articles"))
    if not {"warc_file", "warc_offset", "warc_length"} <= columns:
        raise NotFound("This archive keeps no WARC references")
    row = (await db.execute("select id, url, title, fetched_at, warc_file, warc_offset, warc_length "
                            "from articles where id = ?", [article_id])).first()
    if row is None:
        raise NotFound(f"No article {article_id}")
    return db, dict(row)


def stored_page(db_path: str | None, article: dict):
    # imported here: a plugin that fails to import stops datasette, and `pipelines` is found
    # through arshif_search.py's path setup when the project is not installed
    from pipelines.archive.warc import read_response

    if not db_path or not article.get("warc_file"):
        return None
    imported = frozenset()
    if Path(article["warc_file"]).is_absolute():  # `arshif import --no-copy`: the original file, if it was imported
        from pipelines.archive.warc_import import imported_paths

        imported = imported_paths(db_path)
    return read_response(Path(db_path).parent / "warc", article["warc_file"], article["warc_offset"],
                         article["warc_length"], imported)


def sandboxed_body(body: bytes) -> bytes:
    """The stored HTML, minus refreshes, connection hints and frames (renamed, inert), with links
    aimed at a new window (which the sandbox blocks)."""
    body = _FRAMES.sub(rb"<\1arshif-\2", _HINTS.sub(b"", _REFRESH.sub(b"", body)))
    return b'<base target="_blank">' + body


async def archived_frame(datasette, request):
    db, article = await _article(datasette, request)
    stored = stored_page(db.path, article)
    safe_href = _reading().safe_href
    context = {
        "article": article,
        "stored": stored is not None,
        "fetched": stored.date if stored else article.get("fetched_at"),
        "original_href": safe_href(article.get("url")),
        "reading_href": datasette.urls.path(f"/-/article/{article['id']}") + _reading().db_suffix(request),
        "page_href": datasette.urls.path(f"/-/archived/{article['id']}/page") + _reading().db_suffix(request),
    }
    html = await datasette.render_template(TEMPLATE, context, request=request, view_name="arshif_archived")
    return Response.html(html, status=200 if stored else 404, headers={**COMMON_HEADERS,
                                                                       "Content-Security-Policy": FRAME_POLICY})


async def archived_page(datasette, request):
    db, article = await _article(datasette, request)
    stored = stored_page(db.path, article)
    if stored is None:
        raise NotFound(f"No stored copy of article {article['id']}")
    found = _CHARSET.search(stored.headers.get("content-type", ""))
    content_type = f"text/html; charset={found.group(1)}" if found else "text/html"
    return Response(sandboxed_body(stored.body), status=200, content_type=content_type,
                    headers={**COMMON_HEADERS, "Content-Security-Policy": PAGE_POLICY, "X-Frame-Options": "SAMEORIGIN"})


@hookimpl
def register_routes():
    return [
        (r"^/-/archived/(?P<id>\d{1,30})$", archived_frame),
        (r"^/-/archived/(?P<id>\d{1,30})/page$", archived_page),
    ]
