"""Skip trafilatura's readability/justext comparison where it cannot change the body.

After its own main pass, `bare_extraction(fast=False)` runs readability on the
page and may replace the main pass's text with readability's or justext's
(`trafilatura.external.compare_extraction`): about 1 ms of the worker's ~4 ms
per page. On most news pages it keeps the main pass, and whether it will is
decidable without running readability: readability's text is a part of the
page's text, so it can't be more than twice the main pass when the whole page
isn't. Where that and the other conditions hold, the comparison returns its
inputs unchanged; elsewhere it runs as before. The result is the same either
way (tests/test_trafilatura_shortcut.py compares both on every page we have).

The conditions follow trafilatura 2.3's `compare_extraction` and
`_prefer_readability` line by line, so the shortcut is installed for 2.3.x only:
another version runs trafilatura's own code, correct and 1 ms slower.
"""

from __future__ import annotations

import trafilatura
import trafilatura.core
import trafilatura.external
from lxml import etree
from trafilatura.utils import trim

VERIFIED_VERSIONS = ("2.3.",)  # compare_extraction read and checked against for these

_P_TEXT = etree.XPath(".//p//text()")
_UNCLEAN = etree.XPath(trafilatura.external.SANITIZED_XPATH)
_VIDEO_TEXT = len("VIDEO")  # readability's sanitize() writes this into a video iframe


def page_text_bound(raw_tree) -> int:
    """An upper bound on the length of readability's text for this tree (trimmed as trafilatura
    trims), for a tree without RAW_TEXT_TAGS. Readability keeps a part of the tree's text nodes,
    in their order, and adds only "VIDEO" to iframes: its trimmed text is no longer than the
    whole tree's plus those."""
    whole = etree.tostring(raw_tree, method="text", encoding=str)
    return len(trim(whole)) + _VIDEO_TEXT * sum(1 for _ in raw_tree.iter("iframe"))


# Elements whose text HTML parsers keep raw: readability serializes its result as XML and
# trafilatura parses that again, so an escaped "&" or "<" in them comes back longer ("&amp;").
RAW_TEXT_TAGS = ("xmp", "noembed", "noframes", "plaintext", "noscript")


def comparison_settled(raw_tree, body, text: str, options) -> bool:
    """True where compare_extraction(…, body, text, options) would return (body, text) as they are."""
    len_text = len(text)
    return (
        options.focus == "balanced"
        and next(raw_tree.iter(RAW_TEXT_TAGS), None) is None  # the bound below holds without them
        # justext is consulted on short or unclean (widget-bearing) results
        and len_text >= options.min_extracted_size
        and not _UNCLEAN(body)
        # readability is preferred where the main pass has no paragraph text or more tables than paragraphs
        and bool(_P_TEXT(body))
        and len(body.findall(".//table")) <= len(body.findall(".//p"))
        # ... or where readability's text is more than twice the main pass's
        and page_text_bound(raw_tree) <= 2 * len_text
    )


def _compare_unless_settled(cleaned_tree, raw_tree, body, text, options):
    if comparison_settled(raw_tree, body, text, options):
        return body, text
    return _original_compare(cleaned_tree, raw_tree, body, text, options)


_original_compare = trafilatura.external.compare_extraction


def installed() -> bool:
    return trafilatura.core.compare_extraction is _compare_unless_settled


def install() -> bool:
    """Route trafilatura's comparison through the shortcut (trafilatura 2.3.x); False elsewhere."""
    if not trafilatura.__version__.startswith(VERIFIED_VERSIONS):
        return False
    if getattr(trafilatura.core, "compare_extraction", None) is _original_compare:
        trafilatura.core.compare_extraction = _compare_unless_settled
    return installed()


def uninstall() -> None:
    """trafilatura's own comparison again (tests compare the two)."""
    if installed():
        trafilatura.core.compare_extraction = _original_compare
