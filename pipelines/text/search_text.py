"""The searchable form of Arabic text: normalized, light-stemmed tokens.

The FTS index stores this form and queries are rewritten into it, so "الارهاب"
finds "والإرهاب" and "للإرهاب", with or without tashkeel, in any digit script.
"""

from __future__ import annotations

from pipelines.text.normalize import light_stem, tokens

# News vocabulary repeats: most tokens of a page were stemmed on earlier pages.
# 32,768 entries hold a news site's working vocabulary in about 5 MB.
_STEM_CACHE_SIZE = 32768


class _Stems(dict):
    """token → light_stem(token), emptied when full: a plain dict lookup per token, where
    lru_cache's recency bookkeeping cost more than re-stemming after an occasional clear."""

    def __missing__(self, token: str) -> str:
        if len(self) >= _STEM_CACHE_SIZE:
            self.clear()
        stem = self[token] = light_stem(token)
        return stem


_stem = _Stems().__getitem__


def search_text(text: str | None) -> str:
    """Index form of a title or body."""
    if not text:
        return ""
    return search_form(tokens(text))


def search_form(words: list[str]) -> str:
    """``search_text`` of a text already split into ``normalize.tokens``."""
    return " ".join(map(_stem, words))


def fts_query(query: str | None) -> str:
    """An FTS5 MATCH expression for what a user typed: every term, as a quoted token."""
    terms = search_text(query).split()
    return " ".join(f'"{term}"' for term in terms)


# Every SQL function Arshif registers does linear work on arguments of bounded length.
# Writing the archive (FTS triggers), texts are cut at INDEX_LIMIT characters: no page the
# crawl keeps is longer (DOWNLOAD_MAXSIZE is 10 MB). Where SQL comes from strangers (datasette),
# arguments over PUBLIC_LIMIT are refused: the function raises before doing any work, since
# SQLite's time limit cannot interrupt a Python function while it runs.
INDEX_LIMIT = 10 * 1024 * 1024
PUBLIC_LIMIT = 1_000_000


class ArgumentTooLong(ValueError):
    """An SQL function was given a text longer than it accepts."""


def bounded(function, name: str, limit: int | None):
    """`function` for SQL: text arguments over `limit` characters refused; None: cut at INDEX_LIMIT."""
    def checked(*args):
        if limit is None:
            args = tuple(a[:INDEX_LIMIT] if isinstance(a, str) else a for a in args)
        else:
            for value in args:
                if isinstance(value, (str, bytes)) and len(value) > limit:
                    raise ArgumentTooLong(f"{name}: an argument of {len(value):,} characters is over the "
                                          f"{limit:,} this archive accepts")
        return function(*args)

    checked.__name__ = name
    return checked


def register_functions(connection, precomputed: dict[str, str] | None = None, limit: int | None = None) -> None:
    """Make `arshif_search_text(text)` and `arshif_fts_query(q)` available in SQL.

    ``precomputed`` maps texts to search forms already computed elsewhere (the
    extraction worker does it for every article): the FTS trigger then finds the
    form there instead of computing it again on the crawl's reactor thread.
    ``limit``: refuse arguments longer than this many characters (see `bounded`).
    """
    if precomputed is None:
        compute = search_text
    else:
        def compute(text: str | None) -> str:
            found = precomputed.get(text) if text else None
            return found if found is not None else search_text(text)

    connection.create_function("arshif_search_text", 1, bounded(compute, "arshif_search_text", limit),
                               deterministic=True)
    connection.create_function("arshif_fts_query", 1, bounded(fts_query, "arshif_fts_query", limit),
                               deterministic=True)
