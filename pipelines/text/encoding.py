"""Decode HTML bytes to text when the declared charset may be wrong or missing.

Arabic sites still serve windows-1256 and ISO-8859-6, often with a header that
contradicts the page's meta tag (a server default of ISO-8859-1 is common).
Scrapy trusts the header; we trust the bytes: a body that is valid UTF-8 is
UTF-8; otherwise every declared encoding (header, then meta tag) and
windows-1256 are tried, and the one whose text reads as Arabic wins: the most
words starting with the article "ال" (a wrong Arabic code page turns it into
other letters, a Latin one into accented letters), then a majority of
Arabic-script letters (Persian has no article), then the declared order.
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

FALLBACK_ENCODING = "cp1256"
# Only the start of the page is scored: enough to tell code pages apart, bounded cost.
_SCORE_CHARS = 20000
_ARTICLE_RE = re.compile(r"(?<!\w)ال\w")
_LETTER_RE = re.compile(r"[^\W\d_]")
_ARABIC_SCRIPT_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")


_NOT_PAGE_ENCODINGS = {"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs", "oem"}


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    resolved = resolve_encoding(name)
    if not resolved:
        return None
    try:
        info = codecs.lookup(resolved)
    except LookupError:
        return None
    # "unicode_escape", "idna", "base64"...: declared by broken pages, not text encodings for HTML
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_ENCODINGS:
        return None
    return info.name


def _score(text: str) -> tuple[int, bool]:
    sample = text[:_SCORE_CHARS]
    letters = len(_LETTER_RE.findall(sample))
    arabic = len(_ARABIC_SCRIPT_RE.findall(sample))
    return len(_ARTICLE_RE.findall(sample)), letters > 0 and arabic * 2 > letters


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name) for an HTML body."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom):].decode(bom_encoding, errors="replace"), _codec(bom_encoding) or bom_encoding
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    for name in (
        _codec(http_content_type_encoding(content_type or "")),
        _codec(html_body_declared_encoding(body)),
        FALLBACK_ENCODING,
    ):
        if name and name != "utf-8" and name not in candidates:
            candidates.append(name)
    decoded: list[tuple[tuple[int, bool], int, str, str]] = []
    for order, name in enumerate(candidates):
        try:
            text = body.decode(name)
        except (UnicodeError, LookupError):
            continue
        decoded.append((_score(text), -order, text, name))
    if decoded:
        _, _, text, name = max(decoded)
        return text, name
    return body.decode("utf-8", errors="replace"), "utf-8"
