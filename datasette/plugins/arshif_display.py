"""Datasette plugin: show Arabic text right to left, always escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from datasette import hookimpl

_TEXT_COLUMNS = {"title", "text", "author", "description", "site_name"}


def _is_arabic_script(value: str) -> bool:
    letters = [c for c in value[:400] if c.isalpha()]
    if not letters:
        return False
    arabic = sum(1 for c in letters if "\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f")
    return arabic / len(letters) > 0.3


@hookimpl
def render_cell(value, column):
    if column in _TEXT_COLUMNS and isinstance(value, str) and _is_arabic_script(value):
        return Markup('<div dir="rtl" lang="ar" class="arshif-rtl">{}</div>').format(escape(value))
    return None
