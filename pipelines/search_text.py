"""The searchable form of Arabic text: normalized, light-stemmed tokens.

The FTS index stores this form and queries are rewritten into it, so "الارهاب"
finds "والإرهاب" and "للإرهاب", with or without tashkeel, in any digit script.
"""

from __future__ import annotations

from pipelines.normalize import light_stem, tokens


def search_text(text: str | None) -> str:
    """Index form of a title or body."""
    if not text:
        return ""
    return " ".join(light_stem(token) for token in tokens(text))


def fts_query(query: str | None) -> str:
    """An FTS5 MATCH expression for what a user typed: every term, as a quoted token."""
    terms = search_text(query).split()
    return " ".join(f'"{term}"' for term in terms)


def register_functions(connection) -> None:
    """Make `arshif_search_text(text)` and `arshif_fts_query(q)` available in SQL."""
    connection.create_function("arshif_search_text", 1, search_text, deterministic=True)
    connection.create_function("arshif_fts_query", 1, fts_query, deterministic=True)
