"""What people type in the search box, parsed into an FTS5 expression, filters and a plain description.

Understood: words (all required), "a phrase", OR between terms, -word or NOT word,
a prefix word*, title:word, source:NAME, date:2024 / date:2024-03 /
date:2024-01..2024-06, from:DATE, to:DATE. Every term is folded and stemmed as
the index is (search_text), so the syntax changes what is matched, never how a
word is spelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.text.normalize import light_stem, tokens
from pipelines.text.search_text import search_text

# "phrase" | field:value | -word | word  (Arabic and Latin quotes)
PART_RE = re.compile(r'(-?)(?:(\w+):)?(?:["“”«]([^"“”»]*)["“”»]?|(\S+))')
DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
FIELDS = ("title", "source", "date", "from", "to")
_LATIN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


@dataclass
class Query:
    fts: str = ""  # FTS5 MATCH expression; "" matches nothing
    source: str = ""
    date_from: str = ""  # inclusive, compared with `published` as text
    date_to: str = ""  # exclusive
    said: list[str] = field(default_factory=list)  # how each part was understood, Arabic · English


def _date_bounds(text: str) -> tuple[str, str] | None:
    match = DATE_RE.match(text.translate(_LATIN_DIGITS))
    if not match:
        return None
    year, month, day = match.groups()
    if day:
        start = f"{year}-{int(month):02d}-{int(day):02d}"
        return start, start + "~"  # "~" sorts after any time of that day
    if month:
        start = f"{year}-{int(month):02d}"
        return start, start + "~"
    return year, year + "~"


def _prefix_form(word: str) -> str:
    """A prefix is normalized and loses a leading article, never a suffix (it is not a whole word)."""
    found = tokens(word)
    if not found:
        return ""
    token = found[0]
    stem = light_stem(token)
    return stem if token.endswith(stem) else token  # the stem of a prefix kept only what it cut at the front


def _quoted(terms: list[str]) -> str:
    return " ".join(f'"{term}"' for term in terms)


def parse(typed: str | None) -> Query:
    """Parse a typed query; anything not understood is searched as words."""
    query = Query()
    positive: list[str] = []  # FTS groups joined by AND
    negative: list[str] = []
    pending_or = False
    pending_not = False
    for match in PART_RE.finditer(typed or ""):
        minus, name, phrase, word = match.groups()
        name = (name or "").lower()
        if phrase is None and word in ("OR", "أو", "او"):
            pending_or = bool(positive)
            continue
        if phrase is None and word in ("NOT", "AND"):
            pending_not = word == "NOT"
            continue
        value = phrase if phrase is not None else word
        if name in ("source", "from", "to", "date"):
            if name == "source":
                query.source = value
                query.said.append(f"المصدر · source = {value}")
                continue
            bounds = _date_bounds(value.split("..")[0]) if value else None
            last = _date_bounds(value.split("..")[-1]) if value else None
            if bounds and last:
                if name in ("date", "from"):
                    query.date_from = bounds[0]
                if name in ("date", "to"):
                    query.date_to = last[1]
                query.said.append(f"التاريخ · date {name}: {value}")
                continue
            value = f"{name}:{value}"  # not a date: search the words
            name = ""
        if phrase is None and value.endswith("*") and len(value) > 1:
            stem = _prefix_form(value.rstrip("*"))
            expression = f'"{stem}" *' if stem else ""
            shown = f"بادئة · prefix {stem}*"
        else:
            terms = search_text(value).split()
            if not terms:
                continue
            expression = f'"{" ".join(terms)}"' if phrase is not None else _quoted(terms)
            if phrase is not None:
                shown = f"عبارة · phrase «{value.strip()}»"
            else:
                shown = f"كلمة · word {value}" if len(terms) == 1 else f"كلمات · words {value}"
        if not expression:
            continue
        if name == "title":
            expression = f"title : ({expression})"
            shown += " (في العنوان · in the title)"
        if minus or pending_not:
            negative.append(expression)
            query.said.append(f"من دون · without {shown.split(' ', 3)[-1]}")
        elif pending_or and positive:
            positive[-1] = f"({positive[-1]} OR {expression})"
            query.said[-1] += f" أو · or {shown}"
            # keep the OR group's description on one line
        else:
            positive.append(expression)
            query.said.append(shown)
        pending_or = pending_not = False
    if positive:
        query.fts = " AND ".join(positive) + "".join(f" NOT {n}" for n in negative)
    elif negative:
        query.said.append("لا بحث بالاستبعاد وحده · a NOT alone matches nothing")
    return query


def describe(query: Query) -> str:
    return " · ".join(query.said) if query.said else ""
