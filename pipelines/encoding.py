"""Decode HTML bytes to text when the declared charset may be wrong or missing.

Arabic sites still serve windows-1256 and ISO-8859-6, often with a header that
contradicts the page's meta tag. Scrapy trusts the header; we trust the bytes:
a body that is valid UTF-8 is UTF-8, otherwise the first declared encoding that
decodes it cleanly wins, and windows-1256 is the last resort.
"""

from __future__ import annotations

import codecs

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

FALLBACK_ENCODING = "cp1256"


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    resolved = resolve_encoding(name)
    if not resolved:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name) for an HTML body."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom):].decode(bom_encoding, errors="replace"), _codec(bom_encoding) or bom_encoding
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = [
        _codec(http_content_type_encoding(content_type or "")),
        _codec(html_body_declared_encoding(body)),
    ]
    for name in declared:
        if name and name != "utf-8":
            try:
                return body.decode(name), name
            except UnicodeDecodeError:
                continue
    try:
        return body.decode(FALLBACK_ENCODING), FALLBACK_ENCODING
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace"), "utf-8"
