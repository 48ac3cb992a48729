"""Canonical URLs: one story, one key, whatever tracking parameter, host or AMP variant was linked.

Three forms of a URL, from the most to the least literal:

- ``fetch_url(url)``: what the crawler requests; only the fragment is dropped.
- ``canonical_url(url)``: the address a story is archived under; tracking
  parameters and the fragment dropped, the rest sorted and escaped the one way
  (``w3lib.url.canonicalize_url``), default ports removed. Still fetchable.
- ``canonical_url(url, fold=...)``: the dedup key; also folds the host and AMP
  variants a source serves the same story under (`url_fold` in its seeds file):
  ``"www"`` (www.x → x), ``"mobile"`` (m.x, mobile.x → x), ``"amp"`` (amp.x → x,
  an ``amp`` path segment, a ``.amp`` suffix, ``?amp=1``, ``?outputType=amp``).
  Folding is per source because a few sites serve different things there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus, urldefrag, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Tracking parameters (the lists of ClearURLs, AdGuard and courlan's TRACKERS_RE,
# anchored: courlan's unanchored rules would also drop `gallery=` or `source_id=`).
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "wbraid", "gbraid",
        "igshid", "igsh", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "xtor", "ocid", "ncid", "cmpid",
        "s_cid", "spm", "ito", "ref", "ref_src", "ref_url", "referrer", "from", "share",
        "__twitter_impression",
    }
)
TRACKING_PREFIX_RE = re.compile(r"^(?:(?:utm|ads?|at|ga|hsa|itm|mc|mkt|mtm|oly|pk|vero|wt)_|amp;)", re.IGNORECASE)

FOLDS = frozenset({"www", "mobile", "amp"})
_HOST_PREFIXES = {"www": ("www.",), "mobile": ("m.", "mobile."), "amp": ("amp.",)}
_AMP_SEGMENT_RE = re.compile(r"/amp(?=/|$)", re.IGNORECASE)
_AMP_SUFFIX_RE = re.compile(r"\.amp(?=\.html?$|$)", re.IGNORECASE)
_AMP_QUERY_KEYS = frozenset({"amp"})
_AMP_QUERY_VALUES = frozenset({"outputtype", "output", "format", "view"})  # ...=amp
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_CONTROL_RE = re.compile(r"[\t\n\r]")  # removed anywhere in a URL, as browsers do (WHATWG URL)


def fetch_url(url: str) -> str:
    """The URL to request: the link as found, without its fragment."""
    return urldefrag(url.strip()).url


def canonical_url(url: str, fold: Iterable[str] = ()) -> str:
    """Drop the fragment and tracking parameters, sort the rest, normalise escapes and ports.

    With ``fold`` (names from FOLDS), also fold host and AMP variants: see
    ``fold_url``. Idempotent for the same ``fold``.
    """
    url = _CONTROL_RE.sub("", url.strip())
    try:
        url = canonicalize_url(url, keep_fragments=False)
    except UnicodeEncodeError:  # a lone surrogate: no URL has one, keep a replacement character
        url = canonicalize_url(url.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), keep_fragments=False)
    parts = urlsplit(url)
    query = _query_without(parts.query, lambda key, value: is_tracking_param(key))
    netloc = parts.netloc
    default_port = _DEFAULT_PORTS.get(parts.scheme)
    if default_port and netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    if (netloc, query) != (parts.netloc, parts.query):
        url = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    return fold_url(url, fold) if fold else url


def is_tracking_param(name: str) -> bool:
    return name.lower() in TRACKING_PARAMS or bool(TRACKING_PREFIX_RE.match(name))


def is_own_address(url: str, canonical: str, fold: Iterable[str] = ()) -> bool:
    """``url`` is the page's canonical address itself, not an alias (tracking parameters, host or AMP variant)."""
    if canonical_url(url) != canonical or (fold and fold_url(canonical, fold) != canonical):
        return False
    query = urlsplit(url).query
    return _query_without(query, lambda key, value: is_tracking_param(key)) == query


def fold_url(url: str, fold: Iterable[str]) -> str:
    """Fold the host and AMP variants named in ``fold`` of an already canonical URL.

    Stacked variants (www.m.x, /amp/x.amp) fold all the way. Cheap string work:
    m120 folds a whole archive's URLs once (``fold_key``), its triggers each new one.
    """
    fold = check_fold(fold)
    if not fold:
        return url
    parts = urlsplit(url)
    netloc, path, query = parts.netloc, parts.path, parts.query
    prefixes = tuple(prefix for name in sorted(fold) for prefix in _HOST_PREFIXES[name])
    while True:
        prefix = next((p for p in prefixes if netloc.startswith(p) and "." in netloc[len(p):]), None)
        if prefix is None:
            break
        netloc = netloc[len(prefix):]
    if "amp" in fold:
        while True:
            shorter = _AMP_SUFFIX_RE.sub("", _AMP_SEGMENT_RE.sub("", path)) or "/"
            if shorter == path:
                break
            path = shorter
        query = _query_without(
            query, lambda key, value: key.lower() in _AMP_QUERY_KEYS or (key.lower() in _AMP_QUERY_VALUES and value.lower() == "amp")
        )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


_FOLD_HOST_HINTS = tuple("://" + prefix for prefixes in _HOST_PREFIXES.values() for prefix in prefixes)


def fold_key(url: str | None) -> str | None:
    """``url`` folded with every fold (``FOLDS``), or None when that changes nothing.

    The archive's ``url_fold_keys`` holds this for the archived URLs it changes: any
    source's folded key ``k`` of an archived URL ``u`` has ``fold_key(k) or k ==
    fold_key(u) or u`` (folding more after folding less is folding more), so one
    indexed look-up finds every candidate, whatever the source's ``url_fold``.
    """
    if not url:
        return None
    lower = url.lower()
    if not (any(hint in url for hint in _FOLD_HOST_HINTS) or "/amp" in lower or ".amp" in lower
            or "amp" in lower.partition("?")[2]):
        return None  # none of what fold_url removes is there (most URLs): no parsing
    folded = fold_url(url, FOLDS)
    return folded if folded != url else None


def _query_without(query: str, unwanted) -> str:
    """The query with the pairs ``unwanted(key, value)`` removed, the others left as they are."""
    if not query:
        return query
    kept = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if pair and not unwanted(unquote_plus(key).strip(), unquote_plus(value).strip()):
            kept.append(pair)
    return "&".join(kept)


def check_fold(fold: Iterable[str]) -> frozenset[str]:
    """The fold names as a set; raise ValueError on an unknown one."""
    names = frozenset(fold)
    unknown = names - FOLDS
    if unknown:
        raise ValueError(f"unknown url_fold {sorted(unknown)} (known: {', '.join(sorted(FOLDS))})")
    return names


def same_site(url_a: str, url_b: str) -> bool:
    """True when both URLs are on the same host, ignoring `www.`, `m.` and `amp.`."""

    def host(url: str) -> str:
        name = (urlsplit(url).hostname or "").lower()
        for prefix in ("www.", "m.", "amp."):
            name = name.removeprefix(prefix)
        return name

    return bool(host(url_a)) and host(url_a) == host(url_b)
