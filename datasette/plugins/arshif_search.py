"""Datasette plugin: Arabic search in SQL, with snippets that highlight the original text.

`prepare_connection` gives every connection the functions the FTS index was built
with (`arshif_search_text`, `arshif_fts_query`, from pipelines.text.search_text) plus
`arshif_snippet(text, q[, words])`: the ORIGINAL text, HTML-escaped, with
<mark> around each word whose normalized light stem is a query term.
`arshif_excerpt(text, q[, words])` is the same window as plain text (CSV and JSON
carry no markup; the search page marks it when it renders). `arshif_query(q, part)`
gives the parts of a typed query (pipelines.text.search_query): `fts`, `source`,
`from`, `to`, `filtered` (1 when a source or date filter is set).
`filters_from_request` adds `?_q=` to the articles table page, so a search can
be combined with facets and filters.
"""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path

from urllib.parse import urlencode

from markupsafe import Markup, escape

from datasette import hookimpl

# The pipelines of this plugin's own checkout, first: an installed copy of another
# checkout may lack what this plugin calls (and would index or parse differently).
_PROJECT = str(Path(__file__).resolve().parents[2])
if _PROJECT not in sys.path:
    sys.path.insert(0, _PROJECT)

from pipelines.text.normalize import light_stem, tokens, tokens_of_each  # noqa: E402
from pipelines.text.search_query import describe, parse  # noqa: E402
from pipelines.text.search_text import PUBLIC_LIMIT, bounded, register_functions  # noqa: E402

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


def _word_terms(word_tokens: list[str], terms: frozenset[str]) -> frozenset[str]:
    found = set()
    for token in word_tokens:
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


def _window(text: str, query: str | None, words) -> tuple[list, list, int, int, int, int]:
    try:
        size = int(words) if words is not None else DEFAULT_WORDS
    except (TypeError, ValueError):
        size = DEFAULT_WORDS
    terms = query_terms(query)
    spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text)]
    words = [text[start:end] for start, end in spans]
    seen: dict[str, frozenset[str]] = dict.fromkeys(words, frozenset())  # words repeat: stem each once per text
    if terms:
        for word, word_tokens in zip(seen, tokens_of_each(list(seen)), strict=True):
            seen[word] = _word_terms(word_tokens, terms)
    hits = [seen[word] for word in words]
    low, high = 0, len(text)
    first, last = 0, len(spans)
    if size > 0 and len(spans) > size:
        first = _best_start(hits, size)
        last = first + size
        if first > 0:
            low = spans[first][0]
        if last < len(spans):
            high = spans[last - 1][1]
    return spans, hits, first, last, low, high


def snippet(text: str | None, query: str | None, words: int | None = DEFAULT_WORDS) -> str | None:
    """Escaped `text` (a window of `words` words; 0 = all) with the query's words in <mark>.

    A word is marked when its normalized light stem is one of the query's terms,
    so "ارهاب" marks "والإرهاب" and "للإرهاب" as typed in the article.
    """
    if text is None:
        return None
    text = str(text)
    spans, hits, first, last, low, high = _window(text, query, words)
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


def excerpt(text: str | None, query: str | None, words: int | None = DEFAULT_WORDS) -> str | None:
    """The window `snippet` shows, as plain text (no markup, no escaping): for CSV and JSON."""
    if text is None:
        return None
    text = str(text)
    _, _, _, _, low, high = _window(text, query, words)
    body = SPACE_RE.sub(" ", text[low:high]).strip()
    return (ELLIPSIS + " " if low > 0 else "") + body + (" " + ELLIPSIS if high < len(text) else "")


@lru_cache(maxsize=256)
def query_part(typed: str | None, part: str):
    """One part of a typed query, for SQL: fts, source, from, to, filtered."""
    parsed = parse(typed)
    if part == "filtered":
        return int(bool(parsed.source or parsed.date_from or parsed.date_to))
    return {"fts": parsed.fts, "source": parsed.source, "from": parsed.date_from, "to": parsed.date_to}.get(part, "")


def search_condition(query: str | None, low: int | None = None) -> tuple[str, dict]:
    """SQL restricting `articles` to the FTS matches of `query` (nothing for an empty one);
    with `low`, to the matches archived as article `low` or later."""
    parsed = parse(query)
    if not parsed.fts:
        return "0", {}
    where, params = "id in (select rowid from articles_fts where articles_fts match :arshif_q)", {"arshif_q": parsed.fts}
    if low is not None:
        where = "id in (select rowid from articles_fts where articles_fts match :arshif_q and rowid >= :arshif_low)"
        params["arshif_low"] = low
    for column, op, value in (("source", "=", parsed.source), ("published", ">=", parsed.date_from),
                              ("published", "<", parsed.date_to)):
        if value:
            key = f"arshif_{len(params)}"
            where += f" and {column} {op} :{key}"
            params[key] = value
    return where, params


@hookimpl
def prepare_connection(conn):
    """Arshif's SQL functions, each refusing arguments over PUBLIC_LIMIT characters (SECURITY.md)."""
    register_functions(conn, limit=PUBLIC_LIMIT)
    checked_snippet = bounded(snippet, "arshif_snippet", PUBLIC_LIMIT)
    conn.create_function("arshif_snippet", 2, checked_snippet, deterministic=True)
    conn.create_function("arshif_snippet", 3, checked_snippet, deterministic=True)
    conn.create_function("arshif_excerpt", 2, bounded(excerpt, "arshif_excerpt", PUBLIC_LIMIT), deterministic=True)
    conn.create_function("arshif_query", 2, bounded(query_part, "arshif_query", PUBLIC_LIMIT), deterministic=True)


SQLITE_UDF_ERROR = b"user-defined function raised exception"
CLEAR_UDF_ERROR = (f"an Arshif SQL function refused its arguments: texts longer than {PUBLIC_LIMIT:,} characters "
                   f"are not processed ({SQLITE_UDF_ERROR.decode()})").encode()


INTERRUPTED = ("انتهت مهلة الاستعلام: جرّب بحثاً أضيق أو arshif export. The query took longer than the time limit "
               "(sql_time_limit_ms): narrow it (a source, a date range) or use `arshif export`.")


def without_interrupted_sql(body: bytes) -> bytes:
    """Datasette's JSON answer to an interrupted query carries its SQL, even a canned query's hidden SQL:
    keep the title, say what happened, drop the SQL."""
    if b'"SQL Interrupted"' not in body:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or data.get("title") != "SQL Interrupted":
        return body
    return json.dumps({**data, "error": INTERRUPTED}, ensure_ascii=False).encode()


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
            body = without_interrupted_sql(b"".join(held["body"]).replace(SQLITE_UDF_ERROR, CLEAR_UDF_ERROR))
            headers = [[n, str(len(body)).encode() if n.lower() == b"content-length" else v]
                       for n, v in held["start"].get("headers", [])]
            await send({**held["start"], "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, send_explained)

    return app_explained


@hookimpl
def asgi_wrapper(datasette):
    return explain_function_errors


TABLE_WINDOW = 5000  # `?_q=` on the articles table: rows, count and facets of the newest matches beyond this


async def table_search(datasette, database: str, request) -> tuple[str, dict, dict]:
    """The articles table's `?_q=` condition and what the page says of it.

    Datasette counts the rows and every facet by reading each matching article:
    a word in 10% of a million articles is 100,000 rows read four times a view.
    Beyond TABLE_WINDOW matches the table covers the TABLE_WINDOW most recently
    archived (the search page ranks in the same window) and says so, with the
    real total from the FTS index and a link (`_q_all=1`) to every match. A CSV
    always carries every match.
    """
    query = request.args["_q"]
    parsed = parse(query)
    context = {"query": query, "total": None, "window": None, "all_url": None}
    low = None
    exported = request.url_vars.get("format") == "csv" or request.args.get("_stream")  # a CSV is never cut
    window = int((datasette.plugin_config("arshif-search", database=database) or {}).get("table_window", TABLE_WINDOW))
    if parsed.fts and not request.args.get("_q_all") and not exported:
        db = datasette.get_database(database)
        cutoff = await db.execute("select rowid from articles_fts where articles_fts match :q "
                                  "order by rowid desc limit 1 offset :n", {"q": parsed.fts, "n": window - 1})
        if cutoff.rows:
            low = cutoff.rows[0][0]
            context["total"] = (await db.execute("select count(*) from articles_fts where articles_fts match :q",
                                                 {"q": parsed.fts})).single_value()
            context["window"] = window
            separator = "&" if request.query_string else "?"
            context["all_url"] = request.path + "?" + request.query_string + separator + "_q_all=1"
    where, params = search_condition(query, low)
    return where, params, context


@hookimpl
def filters_from_request(request, database, table, datasette):
    """`/archive/articles?_q=الارهاب`: the table page restricted to an Arabic search."""
    if table != "articles" or not request.args.get("_q"):
        return None
    from datasette.filters import FilterArguments

    async def inner():
        where, params, context = await table_search(datasette, database, request)
        description = 'search for "{}"'.format(context["query"])
        if context["window"]:
            description += (f" (the {context['window']:,} most recently archived of {context['total']:,} matches; "
                            f"_q_all=1 for all)")
        return FilterArguments([where], params=params, human_descriptions=[description],
                               extra_context={"arshif_table_search": context})

    return inner


PAGE_SIZE = 20  # the search query's `limit`
RANKED_LIMIT = 5000  # the search query's cutoff: relevance among the newest matches beyond this


async def match_total(db, typed: str) -> int:
    """How many articles match a typed query: from the FTS index alone unless a source or date filter
    needs the articles (a word in 10% of a million articles: 100,000 index entries, no article read)."""
    parsed = parse(typed)
    if not parsed.fts:
        return 0
    params = {"q": parsed.fts, "source": parsed.source, "from": parsed.date_from or "", "to": parsed.date_to or ""}
    if parsed.source:  # the source's articles from the (source, published) index, each tested against the matches
        sql = ("select count(*) from articles where source = :source and (:from = '' or published >= :from)"
               " and (:to = '' or published < :to) and +id in (select rowid from articles_fts where articles_fts match :q)")
    elif parsed.date_from or parsed.date_to:  # the date range of the published index, the same way
        sql = ("select count(*) from articles where published >= :from and published < coalesce(nullif(:to, ''), "
               "char(1114111)) and +id in (select rowid from articles_fts where articles_fts match :q)")
    else:
        sql = "select count(*) from articles_fts where articles_fts match :q"
    return (await db.execute(sql, params)).single_value()


def mark(text, query) -> Markup:
    """Plain text (an excerpt, a title) escaped, with the query's words in <mark>: the search page's cells."""
    return Markup(snippet(text, query, 0) or "")


async def search_context(datasette, database: str, request) -> dict:
    """The search page's total, pages, sort links and how the query was understood."""
    typed = request.args.get("q") or ""
    parsed = parse(typed)
    try:
        page = max(int(request.args.get("page") or 1), 1)
    except ValueError:
        page = 1
    total = await match_total(datasette.get_database(database), typed)
    base = datasette.urls.database(database) + "/search"

    def link(**changes) -> str:
        args = {"q": typed, "sort": request.args.get("sort") or "", "all": request.args.get("all") or "",
                "page": str(page), **changes}
        return base + "?" + urlencode({k: v for k, v in args.items() if v and not (k == "page" and v == "1") or k == "q"})

    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    windowed = request.args.get("sort") != "date" and not (parsed.source or parsed.date_from or parsed.date_to)
    if windowed:  # relevance pages stop with the ranking window; sort by date pages through every match
        pages = min(pages, RANKED_LIMIT // PAGE_SIZE)
    return {
        "total": total, "ranked_limit": RANKED_LIMIT, "page": page, "pages": pages, "first": (page - 1) * PAGE_SIZE + 1,
        "understood": describe(parsed), "sort": request.args.get("sort") or "relevance",
        "next_url": link(page=str(page + 1)) if page < pages else None,
        "previous_url": link(page=str(page - 1)) if page > 1 else None,
        "by_date_url": link(sort="date", page="1"), "by_relevance_url": link(sort="", page="1"),
        "collapsed": not request.args.get("all"), "all_versions_url": link(all="1", page="1"),
        "one_per_story_url": link(all="", page="1"),
        "mark": mark,
    }


@hookimpl
def extra_template_vars(template, database, request, datasette):
    """`arshif_search` for the search query's page (templates/query.html), whatever the database's name."""
    if template != "query.html" or request is None or not database or not request.path.endswith("/search"):
        return {}

    async def inner():
        return {"arshif_search": await search_context(datasette, database, request)}

    return inner
