"""Canonical URLs: one story, one key, whatever tracking parameters were added."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from w3lib.url import canonicalize_url, url_query_cleaner

TRACKING_PARAM_RE = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gclsrc|msclkid|yclid|mc_[a-z]+|_ga|_gl|igshid"
    r"|ref_src|ref_url|spm|cmpid|ncid|ito|from|share|amp;.*|s_cid)$",
    re.IGNORECASE,
)


def canonical_url(url: str) -> str:
    """Drop the fragment and tracking parameters, sort the rest, normalise escapes."""
    query = urlsplit(url).query
    tracking = {k for k, _ in parse_qsl(query, keep_blank_values=True) if TRACKING_PARAM_RE.match(k)}
    if tracking:
        url = url_query_cleaner(url, tracking, remove=True, keep_fragments=False)
    return canonicalize_url(url, keep_fragments=False)


def same_site(url_a: str, url_b: str) -> bool:
    """True when both URLs are on the same host, ignoring `www.` and `m.`."""

    def host(url: str) -> str:
        name = (urlsplit(url).hostname or "").lower()
        for prefix in ("www.", "m.", "amp."):
            if name.startswith(prefix):
                name = name[len(prefix):]
        return name

    return bool(host(url_a)) and host(url_a) == host(url_b)
