"""Datasette plugin: show Arabic text right to left, always escaped; link titles to the reading view.

Cells are built from escaped text only. A snippet column (`snippet`,
`*_snippet`, made by arshif_snippet) keeps its <mark> tags and nothing else:
the rest is unescaped and escaped again, so a query that selects raw HTML
into a column of that name still shows it as text.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from markupsafe import Markup, escape

from datasette import hookimpl

_TEXT_COLUMNS = {"title", "text", "author", "description", "site_name"}
_MARK_RE = re.compile(r"(</?mark>)")
READING_VIEW = "/-/article/{}"
TEXT_CELL_CHARS = 300  # an article body in a table cell (HTML only: JSON and CSV carry the whole text)
DATE_COLUMNS = {"published", "fetched_at", "started_at", "finished_at", "warc_date"}
WEEKDAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def readable_date(value) -> str | None:
    """`2025-03-09T13:30:00` → `الأحد 9 مارس 2025، 13:30` (the time as stored, in its own zone); None if not ISO."""
    text = str(value or "").strip()
    if not ISO_RE.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    day = f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    return day + (f"، {moment:%H:%M}" if len(text) > 10 else "")


def arabic_date(value) -> Markup:
    """`<time datetime="ISO">` with the readable Arabic date; any other value escaped as it is."""
    shown = readable_date(value)
    if shown is None:
        return Markup("{}").format(value if value is not None else "")
    return Markup('<time datetime="{}" title="{}" class="arshif-date">{}</time>').format(value, value, shown)


def _is_arabic_script(value: str) -> bool:
    letters = [c for c in value[:400] if c.isalpha()]
    if not letters:
        return False
    arabic = sum(1 for c in letters if "\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f")
    return arabic / len(letters) > 0.3


def marked_html(value: str) -> Markup:
    """Escaped text keeping only balanced <mark> tags (arshif_snippet's output, made safe)."""
    parts, depth = [], 0
    for piece in _MARK_RE.split(value):
        if piece == "<mark>":
            depth += 1
            parts.append(piece)
        elif piece == "</mark>":
            if depth:
                depth -= 1
                parts.append(piece)
        else:
            parts.append(str(escape(html.unescape(piece))))
    parts.extend(["</mark>"] * depth)
    return Markup("".join(parts))


def _rtl(content) -> Markup:
    return Markup('<div dir="rtl" lang="ar" class="arshif-rtl">{}</div>').format(content)


def _article_href(datasette, article_id) -> str | None:
    try:
        number = int(article_id)
    except (TypeError, ValueError):
        return None
    return datasette.urls.path(READING_VIEW.format(number))


def _row_value(row, key):
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return None


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["arabic_date"] = arabic_date


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column in DATE_COLUMNS and isinstance(value, str) and readable_date(value):
        return arabic_date(value)
    if isinstance(value, str) and (column == "snippet" or column.endswith("_snippet")):
        content = marked_html(value)
        href = _article_href(datasette, _row_value(row, "article_id")) if column == "title_snippet" else None
        if href:
            content = Markup('<a href="{}">{}</a>').format(href, content)
        return _rtl(content)
    if column == "article_id" and table is None:
        href = _article_href(datasette, value)
        if href:
            return Markup('<a href="{}" title="قراءة المقال · read the article">{}</a>').format(href, value)
    if table == "articles" and column == "title" and isinstance(value, str):
        href = _article_href(datasette, _row_value(row, "id"))
        if href:
            link = Markup('<a href="{}" class="arshif-read">{}</a>').format(href, value)
            return _rtl(link) if _is_arabic_script(value) else link
    if column == "text" and table is not None and isinstance(value, str) and len(value) > TEXT_CELL_CHARS:
        # a table page of 100 articles would carry a megabyte of body text: the start, the rest a click away
        href = _article_href(datasette, _row_value(row, "id")) if table == "articles" else None
        more = Markup(' <a href="{}" class="arshif-more">…</a>').format(href) if href else Markup(" …")
        shown = escape(value[:TEXT_CELL_CHARS].rsplit(" ", 1)[0]) + more
        return _rtl(shown) if _is_arabic_script(value) else shown
    if column in _TEXT_COLUMNS and isinstance(value, str) and _is_arabic_script(value):
        return _rtl(escape(value))
    return None
