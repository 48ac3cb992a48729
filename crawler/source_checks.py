"""The checks a source file's values pass at load, and URL patterns matched under a time budget.

A mistake found here stops the run before it starts, naming the file and the key;
found later, it would record every article as failed, too old or not an article,
and those URLs would not be fetched again. Each checker returns None or what is wrong.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import lru_cache
from urllib.parse import urlsplit

import regex

logger = logging.getLogger(__name__)

# URL patterns run with the `regex` engine (it fails fast where `re` backtracks for seconds,
# e.g. `(\w+-?)+\.html$`) and under this budget per match; a match that takes longer counts as no match.
MATCH_BUDGET = 0.05  # seconds
# at load every pattern is tried on these hostile URLs, each under PROBE_BUDGET
PROBE_UNITS = ("a", "1", "-", "/", "a-", "a/", "-a", "_", ".", "%20", "ا", "a1-", "aa/b")
PROBE_BUDGET = 0.2  # seconds per probe
PROBE_LENGTH = 2048  # characters: longer than any real URL


def pattern_problem(pattern: str) -> str | None:
    """Why a URL regex cannot be used: it does not compile, or it is slow on some URL."""
    try:
        compiled = compile_pattern(pattern)
    except regex.error as exc:
        return f"bad regex {pattern!r}: {exc}"
    for unit in PROBE_UNITS:
        body = unit * (PROBE_LENGTH // len(unit))
        for probe in (f"https://x.example/{body}!", f"https://x.example/{body}", body + "\x00"):
            try:
                compiled.search(probe, timeout=PROBE_BUDGET)
            except TimeoutError:
                return (f"regex {pattern!r} takes more than {PROBE_BUDGET} s on a {len(probe)}-character URL "
                        "(catastrophic backtracking, e.g. a repeated group of repeats): simplify it")
    return None


@lru_cache(maxsize=512)
def compile_pattern(pattern: str):
    return regex.compile(pattern)


def matches(pattern: str, url: str) -> bool:
    """`re.search(pattern, url)`, but with the `regex` engine under MATCH_BUDGET; a timeout is no match."""
    try:
        return compile_pattern(pattern).search(url, timeout=MATCH_BUDGET) is not None
    except TimeoutError:
        logger.warning("URL pattern %r took over %s s on %s: taken as no match", pattern, MATCH_BUDGET, url[:200])
        return False


def selector_problem(selector: str) -> str | None:
    """Why a CSS selector cannot be used (it is compiled as lxml's `cssselect()` compiles it)."""
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    if not selector.strip():
        return "empty CSS selector"
    try:
        CSSSelector(selector)
    except SelectorError as exc:
        return f"bad CSS selector {selector!r}: {exc}"
    return None


def date_problem(value: str) -> str | None:
    """`newer_than` must be an ISO date (2025-01-31) or date and time: articles are compared by date."""
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an ISO date: write it as YYYY-MM-DD, e.g. \"2025-01-31\""
    return None


def url_problem(url: str) -> str | None:
    """An absolute http(s) URL with a host and a valid port, no spaces or control characters."""
    if not url.startswith(("http://", "https://")):
        return f"not an http(s) URL: {url!r}"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return f"URL with a space or control character: {url!r}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        return f"malformed URL {url!r}: {exc}"
    if not parts.hostname:
        return f"URL without a host: {url!r}"
    return None


def domain_problem(domain: str) -> str | None:
    if not domain or "/" in domain or ":" in domain or any(c.isspace() for c in domain):
        return f"{domain!r} is not a domain name (write example.com, no scheme, port or path)"
    return None
