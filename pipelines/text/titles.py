"""Cut the site name off a page title so the archive keeps the headline alone."""

from __future__ import annotations

import re

from .normalize import collapse_space, normalize_arabic, tokens

__all__ = ["clean_headline", "clean_title", "displayed_headline"]

# Bidi controls, zero-width space and BOM; ZWNJ/ZWJ stay (they shape Persian words).
BIDI_RE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# Title separators. Pipes and :: may be unspaced; dashes need spaces on both
# sides (so كوفيد-19 stays whole); guillemets only when spaced and unbalanced,
# since balanced « » are quotation marks in Arabic headlines. A single colon is
# never a separator: "الموسوي: الهدف من …" is one headline.
PIPE_SEPARATOR_RE = re.compile(r"\s*(?:\|\|?|｜|::)\s*")
DASH_SEPARATOR_RE = re.compile(r"\s+[-–—]\s+")
GUILLEMET_SEPARATOR_RE = re.compile(r"\s+[«»]\s+")
# Separators strong enough to cut a site name at the start of a title.
_PREFIX_SEPARATORS = (PIPE_SEPARATOR_RE, GUILLEMET_SEPARATOR_RE)

# A social/SEO title cut short: "… ..." or "…" at its end.
TRUNCATION_RE = re.compile(r"\s*(?:\.{2,}|…)\s*$")
# A metadata title agrees with a longer headline it is the start of when it keeps this many tokens.
MIN_PREFIX_TOKENS = 3

# Without a known site name, an end segment is taken as one when it has at most
# this many words and the rest of the title is longer.
MAX_SITE_NAME_WORDS = 4
# A segment matches site_name when it contains it with at most this many extra
# tokens ("BBC News عربي" for site_name "BBC News").
MAX_EXTRA_SITE_TOKENS = 2


def _separators(title: str) -> list[tuple[int, int, re.Pattern[str]]]:
    spans = []
    patterns = [PIPE_SEPARATOR_RE, DASH_SEPARATOR_RE]
    if title.count("«") != title.count("»"):
        patterns.append(GUILLEMET_SEPARATOR_RE)
    for pattern in patterns:
        for match in pattern.finditer(title):
            start, end = match.span()
            if start == 0 or end == len(title):
                continue
            if pattern is DASH_SEPARATOR_RE and title[start - 1].isdigit() and title[end].isdigit():
                continue  # a score or a range: "2 - 1"
            spans.append((start, end, pattern))
    spans.sort()
    # Drop overlaps (" - | " style runs keep the first).
    result: list[tuple[int, int, re.Pattern[str]]] = []
    for span in spans:
        if not result or span[0] >= result[-1][1]:
            result.append(span)
    return result


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _is_site_name(segment: str, site_tokens: list[str]) -> bool:
    """The segment is the site name, give or take a few words ("صحيفة الرأي الأردنية" for "الرأي")."""
    seg_tokens = tokens(segment)
    if not seg_tokens or not site_tokens:
        return False
    if len(seg_tokens) >= len(site_tokens):
        return len(seg_tokens) - len(site_tokens) <= MAX_EXTRA_SITE_TOKENS and _contains(seg_tokens, site_tokens)
    # A shorter form of the site name ("BBC News" for "BBC News عربي").
    return _contains(site_tokens, seg_tokens)


def _looks_like_site_name(segment: str, rest: str) -> bool:
    words = segment.split()
    return (
        0 < len(words) <= MAX_SITE_NAME_WORDS
        and any(ch.isalpha() for ch in segment)
        and len(rest.strip()) > len(segment.strip())
    )


def _dedupe(title: str) -> str:
    """Keep one copy of a title printed twice ("X X" → "X")."""
    words = title.split()
    half = len(words) // 2
    if half and len(words) % 2 == 0 and tokens(" ".join(words[:half])) == tokens(" ".join(words[half:])):
        return " ".join(words[:half])
    return title


def _strip_site(title: str, site_name: str | None) -> str:
    separators = _separators(title)
    if not separators:
        return title
    first_start, first_end, first_sep = separators[0]
    last_start, last_end, _ = separators[-1]
    head, head_rest = title[:first_start], title[first_end:]
    tail, tail_rest = title[last_end:], title[:last_start]
    if len(separators) == 1 and tokens(head) == tokens(tail):
        return head  # "X | X"

    if site_name:
        site_tokens = tokens(site_name)
        if _is_site_name(tail, site_tokens):
            return tail_rest
        if _is_site_name(head, site_tokens):
            return head_rest
    if _looks_like_site_name(tail, tail_rest):
        return tail_rest
    if first_sep in _PREFIX_SEPARATORS and _looks_like_site_name(head, head_rest):
        return head_rest
    return title


def clean_title(title: str, site_name: str | None = None) -> str:
    """Return the headline of a page title, without the site name.

    "… - BBC News عربي", "… | اليوم السابع", "اليوم السابع | …", "… - الجزيرة نت",
    "… :: موقع …" lose the site part. With ``site_name`` it is removed from
    either end when an end segment matches it (compared with normalize_arabic
    tokens, up to two extra words such as "عربي"); otherwise (or without
    ``site_name``) the last segment is dropped when it has ≤ 4 words and the
    rest is longer, or the first one when it is cut off by | or :: and is as
    short. Only one segment is removed. Colons inside the headline, dashes
    without spaces, "2 - 1" scores and balanced « » quotes are kept. Whitespace
    and bidi marks are cleaned, and a title printed twice is kept once.
    """
    if not title:
        return ""
    cleaned = collapse_space(BIDI_RE.sub("", title))
    cleaned = _dedupe(cleaned)
    cleaned = _strip_site(cleaned, site_name).strip()
    return _dedupe(cleaned)


def clean_headline(headline: str) -> str:
    """A displayed headline (<h1>) with whitespace and bidi marks cleaned: no segment is ever cut off."""
    return _dedupe(collapse_space(BIDI_RE.sub("", headline or "")))


def displayed_headline(h1: str | None, declared: str | None, site_name: str | None = None) -> str | None:
    """The <h1> when it is the headline the metadata declares (`declared`, raw), shown whole; else None.

    They agree when equal up to the site name ("… | الموقع"), when the declared
    title was cut short ("… ..." or "…") from the start of the <h1>, or when the
    <h1> is its longer form (it starts with or holds the declared title's
    words). Compared on normalize_arabic tokens.
    """
    if not h1 or not declared:
        return None
    shown = clean_headline(h1)
    shown_tokens = tokens(shown)
    if not shown_tokens or (site_name and _is_site_name(shown, tokens(site_name))):
        return None  # a logo in an <h1>
    declared = collapse_space(BIDI_RE.sub("", declared))
    for form in (declared, clean_title(declared, site_name)):
        truncated = TRUNCATION_RE.search(form) is not None
        form_tokens = tokens(TRUNCATION_RE.sub("", form))
        if not form_tokens:
            continue
        if form_tokens == shown_tokens:
            return shown
        if len(form_tokens) >= MIN_PREFIX_TOKENS and len(form_tokens) < len(shown_tokens):
            if truncated:
                # the last word may be cut too: "… يتحدث عن الاقتص..."
                head = form_tokens[:-1]
                if shown_tokens[: len(head)] == head:
                    return shown
            elif _contains(shown_tokens, form_tokens):
                return shown
    # the declared title is the headline, a separator and more: "<h1> - الموقع - القسم"
    rest = _after_prefix(normalize_arabic(declared), normalize_arabic(shown))
    if len(shown_tokens) >= MIN_PREFIX_TOKENS and rest is not None and _SEPARATOR_START_RE.match(rest):
        return shown
    return None


_SEPARATOR_START_RE = re.compile(r"\s*(?:[|｜:«»·•/]|[-–—]\s)")


def _after_prefix(text: str, prefix: str) -> str | None:
    """What follows `prefix` at the start of `text` (both normalized), or None."""
    return text[len(prefix):] if prefix and text.startswith(prefix) else None
