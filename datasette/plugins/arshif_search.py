"""Datasette plugin: Arabic search in SQL, with snippets that highlight the original text.

`prepare_connection` gives every connection the functions the FTS index was built
with (`arshif_search_text`, `arshif_fts_query`, from pipelines.text.search_text) plus
`arshif_snippet(text, q[, words])`: the ORIGINAL text, HTML-escaped, with
<mark> around each word whose normalized light stem is a query term.
`filters_from_request` adds `?_q=` to the articles table page, so a search can
be combined with facets and filters.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from markupsafe import escape

from datasette import hookimpl

# `pipelines` of the checkout these plugins live in, before any other installed copy
# (`datasette serve --plugins-dir datasette/plugins` from elsewhere, or a second checkout)
_CHECKOUT = Path(__file__).resolve().parents[2]
if (_CHECKOUT / "pipelines").is_dir() and "pipelines" not in sys.modules:
    sys.path.insert(0, str(_CHECKOUT))

from pipelines.text.normalize import light_stem, tokens  # noqa: E402
from pipelines.text.search_text import PUBLIC_LIMIT, bounded, fts_query, register_functions  # noqa: E402

# A word as typed in the original text: a letter or digit, then letters, digits,
# and the marks normalization deletes inside a word (tashkeel, tatweel, zero-width
# and bidi controls), so "مُؤْتَمَر" or "ال‌ارهاب" is one word, as it is one token.
_INWORD_MARKS = (
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
    "\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
)
WORD_RE = re.compile(rf"[^\W_](?:[^\W_]|[{_INWORD_MARKS}])*")
SPACE_RE = re.compile(r"\s+")
DEFAULT_WORDS = 30  # window of a body snippet, in words
ELLIPSIS = "…"


def query_terms(query: str | None) -> frozenset[str]:
    """The index terms of what a user typed (the tokens arshif_fts_query quotes)."""
    return frozenset(light_stem(token) for token in tokens(query or ""))


def _word_terms(word: str, terms: frozenset[str]) -> frozenset[str]:
    found = set()
    for token in tokens(word):
        # A light stem is a substring of its token (but for الله): skip stemming most words.
        if any(term in token for term in terms) or "الله" in terms:
            stem = light_stem(token)
            if stem in terms:
                found.add(stem)
    return frozenset(found)


def _best_start(hits: list[frozenset[str]], size: int) -> int:
    """First word of the `size`-word window with the most distinct terms, then most hits.

    The windows tried start `size // 3` words before each hit; their starts only grow, so
    one window slides over the text and every word enters and leaves it once (linear time).
    """
    count = len(hits)
    best, best_score = 0, (0, 0)
    terms: dict[str, int] = {}
    hit_words = 0
    low = high = 0  # the window is hits[low:high]
    for position, found in enumerate(hits):
        if not found:
            continue
        start = max(0, min(position - size // 3, count - size))
        end = start + size
        while high < end:
            for term in hits[high]:
                terms[term] = terms.get(term, 0) + 1
            hit_words += bool(hits[high])
            high += 1
        while low < start:
            for term in hits[low]:
                terms[term] -= 1
                if not terms[term]:
                    del terms[term]
            hit_words -= bool(hits[low])
            low += 1
        score = (len(terms), hit_words)
        if score > best_score:
            best, best_score = start, score
    return best


def snippet(text: str | None, query: str | None, words: int | None = DEFAULT_WORDS) -> str | None:
    """Escaped `text` (a window of `words` words; 0 = all) with the query's words in <mark>.

    A word is marked when its normalized light stem is one of the query's terms,
    so "ارهاب" marks "والإرهاب" and "للإرهاب" as typed in the article.
    """
    if text is None:
        return None
    text = str(text)
    try:
        size = int(words) if words is not None else DEFAULT_WORDS
    except (TypeError, ValueError):
        size = DEFAULT_WORDS
    terms = query_terms(query)
    spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text)]
    seen: dict[str, frozenset[str]] = {}  # words repeat: stem each once per text
    hits = []
    for start, end in spans:
        word = text[start:end]
        if word not in seen:
            seen[word] = _word_terms(word, terms) if terms else frozenset()
        hits.append(seen[word])
    low, high = 0, len(text)
    first, last = 0, len(spans)
    if size > 0 and len(spans) > size:
        first = _best_start(hits, size)
        last = first + size
        if first > 0:
            low = spans[first][0]
        if last < len(spans):
            high = spans[last - 1][1]
    parts = [ELLIPSIS + " "] if low > 0 else []
    position = low
    for (start, end), found in zip(spans[first:last], hits[first:last], strict=True):
        if found:
            parts.append(str(escape(SPACE_RE.sub(" ", text[position:start]))))
            parts.append(f"<mark>{escape(text[start:end])}</mark>")
            position = end
    parts.append(str(escape(SPACE_RE.sub(" ", text[position:high]))))
    if high < len(text):
        parts.append(" " + ELLIPSIS)
    return "".join(parts).strip()


def search_condition(query: str | None) -> tuple[str, dict]:
    """SQL restricting `articles` to the FTS matches of `query` (nothing for an empty one)."""
    expression = fts_query(query)
    if not expression:
        return "0", {}
    return (
        "id in (select rowid from articles_fts where articles_fts match :arshif_q)",
        {"arshif_q": expression},
    )


@hookimpl
def prepare_connection(conn):
    """Arshif's SQL functions, each refusing arguments over PUBLIC_LIMIT characters (SECURITY.md)."""
    register_functions(conn, limit=PUBLIC_LIMIT)
    checked_snippet = bounded(snippet, "arshif_snippet", PUBLIC_LIMIT)
    conn.create_function("arshif_snippet", 2, checked_snippet, deterministic=True)
    conn.create_function("arshif_snippet", 3, checked_snippet, deterministic=True)


SQLITE_UDF_ERROR = b"user-defined function raised exception"
CLEAR_UDF_ERROR = (f"an Arshif SQL function refused its arguments: texts longer than {PUBLIC_LIMIT:,} characters "
                   f"are not processed ({SQLITE_UDF_ERROR.decode()})").encode()


def explain_function_errors(app):
    """SQLite reports any Python function's exception as "user-defined function raised exception":
    say, in the 400 answer, what Arshif's functions refuse."""
    async def app_explained(scope, receive, send):
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        held: dict = {"start": None, "body": []}

        async def send_explained(message):
            if message["type"] == "http.response.start" and message.get("status") == 400:
                held["start"] = message
                return
            if held["start"] is None:
                await send(message)
                return
            held["body"].append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(held["body"]).replace(SQLITE_UDF_ERROR, CLEAR_UDF_ERROR)
            headers = [[n, str(len(body)).encode() if n.lower() == b"content-length" else v]
                       for n, v in held["start"].get("headers", [])]
            await send({**held["start"], "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, send_explained)

    return app_explained


@hookimpl
def asgi_wrapper(datasette):
    return explain_function_errors


@hookimpl
def filters_from_request(request, database, table, datasette):
    """`/archive/articles?_q=الارهاب`: the table page restricted to an Arabic search."""
    if table != "articles" or not request.args.get("_q"):
        return None
    from datasette.filters import FilterArguments

    query = request.args["_q"]
    where, params = search_condition(query)
    return FilterArguments([where], params=params, human_descriptions=[f'search for "{query}"'])
