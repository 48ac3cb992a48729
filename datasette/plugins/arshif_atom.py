"""Datasette plugin: an Atom feed of a search or of a source, for any feed reader.

`/archive/search.atom?q=مؤتمر&sort=date` (a search, newest first) and
`/archive/articles.atom?source=aljazeera&_sort_desc=published` (a source) are
the same rows as the HTML pages, as Atom 1.0: one entry per article, linked to
its reading view, with the original URL, source and publication date. Built
with ElementTree, so every scraped value is escaped XML text.
"""

from __future__ import annotations

from datetime import datetime, timezone
from xml.etree import ElementTree

from datasette import hookimpl
from datasette.utils.asgi import Response

ATOM = "http://www.w3.org/2005/Atom"
SUMMARY_CHARS = 400


def _rfc3339(value) -> str | None:
    """An ISO date as Atom wants it (with a zone; a stored date without one is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds")


def feed_xml(rows: list[dict], title: str, self_url: str, base: str) -> bytes:
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "ar"})
    ElementTree.SubElement(feed, f"{{{ATOM}}}title").text = title
    ElementTree.SubElement(feed, f"{{{ATOM}}}id").text = self_url
    ElementTree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    dates = [d for d in (_rfc3339(row.get("published") or row.get("fetched_at")) for row in rows) if d]
    ElementTree.SubElement(feed, f"{{{ATOM}}}updated").text = max(dates) if dates else (
        datetime.now(timezone.utc).isoformat(timespec="seconds"))
    ElementTree.SubElement(ElementTree.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "Arshif"
    for row in rows:
        article_id = row.get("article_id", row.get("id"))
        entry = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
        ElementTree.SubElement(entry, f"{{{ATOM}}}title").text = row.get("title") or "(بلا عنوان · untitled)"
        ElementTree.SubElement(entry, f"{{{ATOM}}}id").text = row.get("url") or f"{base}/-/article/{article_id}"
        ElementTree.SubElement(entry, f"{{{ATOM}}}link", href=f"{base}/-/article/{article_id}")
        if row.get("url"):
            ElementTree.SubElement(entry, f"{{{ATOM}}}link", rel="via", href=row["url"])
        when = _rfc3339(row.get("published") or row.get("fetched_at"))
        ElementTree.SubElement(entry, f"{{{ATOM}}}updated").text = when or feed.find(f"{{{ATOM}}}updated").text
        if when and row.get("published"):
            ElementTree.SubElement(entry, f"{{{ATOM}}}published").text = when
        if row.get("source"):
            ElementTree.SubElement(entry, f"{{{ATOM}}}category", term=str(row["source"]))
        summary = row.get("snippet") or row.get("description") or (row.get("text") or "")[:SUMMARY_CHARS]
        if summary:
            ElementTree.SubElement(entry, f"{{{ATOM}}}summary").text = summary
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(feed, encoding="utf-8")


def can_render(columns, query_name, table):
    return ("title" in columns and ("article_id" in columns or "id" in columns)
            and (query_name == "search" or table == "articles"))


def render(datasette, request, rows, columns, query_name, table, database):
    records = [dict(zip(columns, row)) for row in rows]
    base = f"{request.scheme}://{request.host}"
    typed = request.args.get("q")
    if query_name == "search":
        title = f"أرشيف: بحث «{typed or ''}» · Arshif search: {typed or ''}"
    else:
        source = request.args.get("source")
        title = f"أرشيف: {source} · Arshif: {source}" if source else "أرشيف: المقالات · Arshif: articles"
    self_url = base + request.path + (f"?{request.query_string}" if request.query_string else "")
    return Response(feed_xml(records, title, self_url, base), content_type="application/atom+xml; charset=utf-8")


@hookimpl
def register_output_renderer(datasette):
    return {"extension": "atom", "render": render, "can_render": can_render}
