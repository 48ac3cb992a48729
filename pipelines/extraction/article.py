"""One extraction path for the crawl, `arshif extract` and `arshif reextract`.

Plain function over (html bytes, url, headers): decode, read structured
metadata, prune boilerplate, let trafilatura find the body, then pick the
article's own date and a clean headline. Nothing here knows about Scrapy, so it
runs in a worker process as well as on the command line.
"""

from __future__ import annotations

import codecs
import logging
import re
from copy import copy
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from pipelines.text.boilerplate import in_boilerplate_block, is_boilerplate_key, prune_boilerplate
from pipelines.text.bylines import MAX_BYLINE_CHARS, byline_name, dateline_names, is_agency, labelled_name
from pipelines.text.dates import PERSIAN_LETTER_RE, parse_date_text, parse_iso_date
from pipelines.text.encoding import decode_html
from pipelines.text.metadata import PageMetadata, clean_space, decoded, read_metadata
from pipelines.text.normalize import TOKEN_RE, normalize_arabic, normalize_lines, tokens
from pipelines.text.titles import clean_headline, clean_title, displayed_headline
from pipelines.extraction.safety_net import better_body, prose_lines, suspicious, words_in as _words
from pipelines.extraction.trafilatura_shortcut import install as install_trafilatura_shortcut
from pipelines.similarity.urls import canonical_url, same_site

MIN_WORDS = 40
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|[^\d])")
_DIGIT_RE = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]")
_DATELINE_MAX_CHARS = 200
# How much text after the headline the dateline search reads before giving up,
# and how many body paragraphs (own text of this many characters) it may pass:
# a dateline sits between the headline and the body, not below it.
_DATELINE_WINDOW_CHARS = 1200
_DATELINE_MAX_PARAGRAPHS = 2
_PARAGRAPH_CHARS = 100
_LATIN_RE = re.compile(r"[A-Za-z]")
_URDU_LETTER_RE = re.compile("[\u0679\u0688\u0691\u06ba\u06be\u06c1\u06d2]")  # ٹ ڈ ڑ ں ھ ہ ے
_ARABIC_SCRIPT_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
# trafilatura's options for the body, built once: Extractor() reads its config values on every call.
# Not fast: where the main pass finds little (a div-soup body between inline ads), trafilatura
# falls back to its other extractors (readability, justext); elsewhere this costs about 1 ms.
# (fast=True keeps 163 of the 1,505 words of the quality gate's urdupoint_1 page.)
# The comparison is skipped where it provably keeps the main pass (pipelines/extraction/trafilatura_shortcut.py).
install_trafilatura_shortcut()
_BODY_OPTIONS = Extractor(
    output_format="python", fast=False, comments=False, tables=False, images=False, links=False, dedup=False
)
# The safety net's first look at the unpruned page: trafilatura's main pass alone.
_MAIN_PASS_OPTIONS = copy(_BODY_OPTIONS)
_MAIN_PASS_OPTIONS.fast = True
logger = logging.getLogger(__name__)


# lxml.html's parser picks each element's Python class in a Python callback, once per element
# object lxml creates (thousands per page, here and in trafilatura); this one does it in C. Every
# tag gets the plain HtmlElement: the form-field subclasses (FormElement, InputElement …) add
# methods nothing here calls.
def _html_parser(encoding: str | None = None) -> lxml.html.HTMLParser:
    parser = lxml.html.HTMLParser(encoding=encoding)
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    return parser


_HTML_PARSER = _html_parser()
# For bodies that are their text's UTF-8 already: lxml hands a str to libxml2 as UTF-16 or
# UTF-32, which libxml2 converts back to UTF-8 (about 12% of the parse).
_UTF8_PARSER = _html_parser("utf-8")


# XPath compiled once: tree.xpath("…") compiles its expression on every call.
_HEADS_XPATH = etree.XPath("//h1 | //h2 | //h3")
_ARTICLE_ROOTS_XPATH = etree.XPath("//article | //main")
_TEASER_LIST_XPATH = etree.XPath(".//li[.//a[@href]]")
_LINK_XPATH = etree.XPath(".//a[@href]")
_AUTHOR_XPATH = etree.XPath(
    "//*[@rel='author' or contains(@class,'author') or contains(@class,'byline') or contains(@class,'writer')]"
)
_BYLINE_CANDIDATES_XPATH = etree.XPath("//p | //span | //div[not(*)]")
_SOURCE_LINE_XPATH = etree.XPath("//text()[starts-with(normalize-space(), 'المصدر')]/parent::*")


class ExtractionError(ValueError):
    """The page could not be parsed or held no text at all."""


@dataclass
class ExtractOptions:
    prune_selectors: tuple[str, ...] = ()
    min_words: int = MIN_WORDS
    fetched_at: str | None = None  # ISO time, for relative datelines ("منذ ساعتين")
    hints: dict = field(default_factory=dict)  # from sitemaps and feeds: title, published


_XML_DECLARATION_RE = re.compile(r"\s*<\?xml\b[^>]*\?>", re.IGNORECASE)


def parse_html(body: bytes, content_type: str | None = None):
    """Decode and parse; raise ExtractionError on an empty or unparsable page."""
    if not body or not body.strip():
        raise ExtractionError("empty page")
    decoded, encoding = decode_html(body, content_type)
    text = _without_controls(decoded, body, encoding)
    if not text.strip():
        raise ExtractionError("empty page")
    # decode_html says "utf-8" for a valid UTF-8 body or one after a UTF-8 BOM: without the
    # BOM and the controls, the body is the text's own UTF-8, and libxml2 reads it as it is.
    # A page that opens with an XML declaration (XHTML) takes the text path, without the
    # declaration: its encoding is decided already, and lxml refuses a str that declares one.
    as_bytes = (
        encoding == "utf-8" and text is decoded and not body.startswith((codecs.BOM_UTF8, b"<?xml"))
    )
    if as_bytes:
        source, parser = body, _UTF8_PARSER
    else:
        declaration = _XML_DECLARATION_RE.match(text)
        source, parser = (text[declaration.end():] if declaration else text), _HTML_PARSER
    try:
        tree = lxml.html.document_fromstring(source, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparsable HTML: {exc}") from None
    return tree, encoding


def _without_controls(text: str, body: bytes, encoding: str) -> str:
    """`text` (decoded from `body`) without NUL and the other C0 controls, which are not XML text.

    UTF-8 decodes them from their own bytes only, so a UTF-8 body without those
    bytes (checked in C, five times faster than the regex) has none.
    """
    if encoding == "utf-8" and len(body.translate(None, _CONTROL_BYTES)) == len(body):
        return text
    return _CONTROL_RE.sub("", text)


def _clean_lines(text: str, title: str | None) -> tuple[list[str], list[str]]:
    """The body's lines without leftover heading lines, the repeated headline and repeated lines,
    and their normalize_arabic keys (the text's tokens are in them)."""
    seen: set[str] = set()
    title_key = normalize_arabic(title or "")
    candidates = [line for line in map(clean_space, text.splitlines()) if line]
    lines, keys = [], []
    for line, key in zip(candidates, normalize_lines(candidates)):
        if is_boilerplate_key(key) or key in seen or (title_key and key == title_key):
            continue
        seen.add(key)
        lines.append(line)
        keys.append(key)
    return lines, keys


def _find_title_element(tree, title: str | None):
    heads = _HEADS_XPATH(tree)
    if title:
        key = normalize_arabic(title)
        for head in heads:
            text = normalize_arabic(head.text_content())
            if text and (text == key or key in text or text in key):
                return head
    return heads[0] if heads else None


def _dateline(tree, title_element, now: str | None):
    """The first short text near the headline that parses as a date, and its element.

    Only the text that follows the headline is read, up to its first
    _DATELINE_WINDOW_CHARS characters or _DATELINE_MAX_PARAGRAPHS body
    paragraphs: a "today" date in the page header comes before the headline,
    related stories and comments come after the body. Then, inside the
    headline's <article> only, the text above the headline (a Persian
    "کد خبر: … سه‌شنبه ۱۲ فروردین ۱۳۹۹" line). Without a headline only an
    <article> or <main> element is searched.
    """
    moment = _parse_now(now)
    if title_element is not None:
        found = _first_date(_following(title_element), moment)
        article = next(title_element.iterancestors("article"), None)
        if found[0] is None and article is not None:
            found = _first_date(_until(article.iter(), title_element), moment)
        return found
    roots = _ARTICLE_ROOTS_XPATH(tree)
    if not roots:
        return None, None
    return _first_date(roots[0].iter(), moment)


def _until(elements, stop):
    """`elements` up to `stop` (excluded)."""
    for element in elements:
        if element is stop:
            return
        yield element


def _first_date(elements, moment):
    """(date, its element) of the first short dated text among `elements`, within the dateline window."""
    seen = paragraphs = 0
    for element in elements:
        if not isinstance(element.tag, str) or element.tag in {"script", "style", "a"}:
            continue
        own = clean_space(element.text) or ""
        full = clean_space(element.text_content()) or ""
        if _in_teaser(element):
            candidates = ()  # "<li><a>another story</a> <span>date</span></li>": that story's date
        elif _TEASER_LIST_XPATH(element):
            candidates = (own,)  # a list of teasers: its dates are theirs
        else:
            candidates = (own, full)
        for candidate in candidates:
            if candidate and 6 <= len(candidate) <= _DATELINE_MAX_CHARS and _DIGIT_RE.search(candidate):
                found = parse_date_text(candidate, now=moment)
                if found:
                    return found, _innermost_dated(element, moment)
        seen += len(own) + len((element.tail or "").strip())
        paragraphs += len(own) >= _PARAGRAPH_CHARS
        if seen > _DATELINE_WINDOW_CHARS or paragraphs >= _DATELINE_MAX_PARAGRAPHS:
            break
    return None, None


def _in_teaser(element) -> bool:
    """The element is (in) a list item that links to another page."""
    for item in (element, *element.iterancestors("li")):
        if item.tag == "li":
            return bool(_LINK_XPATH(item))
    return False


def _following(element):
    """Elements after `element` in document order (not its descendants)."""
    for node in element.itersiblings():
        yield from node.iter()
    parent = element.getparent()
    if parent is not None:
        yield from _following(parent)


def _innermost_dated(element, now):
    """The deepest descendant that still holds the date (the date's own span)."""
    for descendant in element.iterdescendants():
        if not isinstance(descendant.tag, str):
            continue
        text = clean_space(descendant.text_content()) or ""
        if 6 <= len(text) <= _DATELINE_MAX_CHARS and parse_date_text(text, now=now):
            return _innermost_dated(descendant, now)
    return element


def _parse_now(value: str | None):
    if not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _byline(meta: PageMetadata, tree, dateline_element, now) -> tuple[str | None, str | None]:
    """(author, agency): the first person named by the page, and the news agency it credits.

    Read in this order: metadata, author/byline elements, the dateline block
    ("<name> - <date>", "<date> | <name>", the name beside the date's element),
    then short labelled texts ("بقلم …", "كتبت …", "المصدر: …") anywhere but in
    comments, related lists and sidebars. An agency ("رويترز", "وكالات") is the
    source, not the author; the site's own name is neither.
    """
    author = agency = None
    site = tokens(meta.site_name or "")
    for name in _byline_names(meta, tree, dateline_element, now):
        name = clean_space(name)
        if not name or (site and tokens(name) == site):
            continue
        if not is_agency(name):
            author = name
            break
        agency = agency or name
    if agency is None:  # "المصدر: رويترز" under the body
        agency = next((name for name in map(labelled_name, _source_lines(tree)) if is_agency(name)), None)
    return author, agency


def _source_lines(tree):
    """Texts of the elements whose text starts with "المصدر", outside comments and related lists."""
    for element in _SOURCE_LINE_XPATH(tree):
        if not in_boilerplate_block(element):
            yield element.text_content()


def _byline_names(meta: PageMetadata, tree, dateline_element, now):
    """Candidate byline names, best first (see _byline); lazily, so the costlier searches run only if needed."""
    if meta.author:
        yield meta.author
    for element in _AUTHOR_XPATH(tree):
        if not in_boilerplate_block(element):
            yield byline_name(element.text_content())
    if dateline_element is not None:
        yield from dateline_names(dateline_element.text_content(), now)
        # a byline block: the name stands beside the date, with no label
        block = dateline_element.getparent()
        for sibling in block if block is not None else ():
            if sibling is dateline_element or not isinstance(sibling.tag, str):
                continue
            yield byline_name(sibling.text_content())
    for element in _BYLINE_CANDIDATES_XPATH(tree):
        text = element.text_content()
        if len(text) <= 2 * MAX_BYLINE_CHARS:
            name = labelled_name(text)
            if name and not in_boilerplate_block(element):
                yield name


def _mostly_latin(text: str) -> bool:
    return len(_LATIN_RE.findall(text)) > len(_ARABIC_SCRIPT_RE.findall(text))


def _title(meta: PageMetadata, hints: dict) -> str | None:
    """The headline: the displayed <h1> where it agrees with the declared one, else JSON-LD,
    OpenGraph, <h1>, feed title, <title>, without the site name.

    A Latin-script SEO title ("Ravi Ki Kahani - Special Urdu Article") on a page
    whose <h1> is in Arabic script is a transliteration: the <h1> wins. An <h1>
    never loses a " - segment": it is the headline as displayed.
    """
    site = meta.site_name
    arabic_h1 = meta.h1 if meta.h1 and len(meta.h1.split()) >= 2 and not _mostly_latin(meta.h1) else None
    hint = decoded(hints.get("title"))  # a feed's title escaped twice ("&amp;quot;")
    for declared in (meta.headline, meta.og_title, hint, meta.title):
        shown = displayed_headline(meta.h1, declared, site)
        if shown:
            return shown
    for candidate in (meta.headline, meta.og_title, meta.h1, hint, meta.title):
        if candidate:
            cleaned = clean_headline(candidate) if candidate is meta.h1 else clean_title(candidate, site)
            if cleaned and arabic_h1 and _mostly_latin(cleaned):
                continue
            if cleaned:
                return cleaned
    return None


def _persian(meta: PageMetadata) -> bool:
    """A Persian (or Dari/Pashto) page: its machine dates below year 1700 are Solar Hijri ("1399/01/12")."""
    if meta.lang:
        return meta.lang.startswith(("fa", "prs", "ps"))
    headline = meta.h1 or meta.title or ""
    return bool(PERSIAN_LETTER_RE.search(headline)) and not _URDU_LETTER_RE.search(headline)


def _published(meta: PageMetadata, dateline: str | None, options: ExtractOptions, url: str) -> str | None:
    """Declared metadata first, then the dateline under the headline, feed hints, the URL."""
    if meta.published:
        value = parse_iso_date(meta.published, persian=_persian(meta))
        if value:
            return value
    if dateline:
        return dateline
    if options.hints.get("published"):
        value = parse_iso_date(options.hints["published"])
        if value:
            return value
    match = _URL_DATE_RE.search(url)
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:  # /2023/02/31/ is not a date
            return None
    return None


def extract_article(body: bytes, url: str, content_type: str | None = None, options: ExtractOptions | None = None) -> dict:
    """Return the article record for one page (see README: the `articles` columns)."""
    return _extract(body, url, content_type, options)[0]


def extract_with_tokens(
    body: bytes, url: str, content_type: str | None = None, options: ExtractOptions | None = None
) -> tuple[dict, list[str]]:
    """extract_article, and normalize.tokens(record["text"]) read off the lines _clean_lines normalized.

    normalize_arabic works character by character and a line break is a
    normalization boundary, so the text's folded form is its lines' folded
    forms joined: the text is not folded a second time (tests/test_properties.py).
    """
    record, keys = _extract(body, url, content_type, options)
    return record, TOKEN_RE.findall(" ".join(keys))


def _extract(body: bytes, url: str, content_type: str | None, options: ExtractOptions | None) -> tuple[dict, list[str]]:
    """The record, and the normalize_arabic keys of its text's lines."""
    options = options or ExtractOptions()
    tree, encoding = parse_html(body, content_type)
    meta = read_metadata(tree)
    pruned_prose = prune_boilerplate(tree, options.prune_selectors)
    title = _title(meta, options.hints)
    title_element = _find_title_element(tree, title)
    # The dateline is searched only where metadata has no date; its element also helps find the byline.
    dateline, dateline_element = None, None
    if not (meta.published and parse_iso_date(meta.published, persian=_persian(meta))) or not meta.author:
        dateline, dateline_element = _dateline(tree, title_element, options.fetched_at)
    published = _published(meta, dateline, options, url)
    author, agency = _byline(meta, tree, dateline_element, _parse_now(options.fetched_at))

    lines, keys = _clean_lines(_body_text(tree, url), title)
    text = "\n".join(lines)
    words = _words(text)
    fallback = None
    if suspicious(words, lines, pruned_prose, options.min_words):
        fallback, better = _unpruned_body(body, content_type, url, words, prose_lines(lines))
        if better is not None:
            lines, keys = _clean_lines(better, title)
            text = "\n".join(lines)
            words = _words(text)

    canonical = _declared_canonical(url, (meta.canonical, meta.og_url))
    is_article, reason = _article_verdict(meta, text, words, options.min_words)
    record = {
        "url": url,
        "canonical_url": canonical,
        "title": title,
        "text": text,
        "author": author,
        "agency": agency,  # the news agency credited ("رويترز", "وكالات"), never in author
        "published": published,
        "description": meta.description,
        "site_name": meta.site_name,
        "declared_language": meta.lang,
        "encoding": encoding,
        "word_count": words,
        "is_article": is_article,
        "verdict": reason,
        "fallback": fallback,  # why trafilatura's body of the unpruned page was kept, or None
    }
    return record, keys


def _unpruned_body(body: bytes, content_type: str | None, url: str, words: int, prose: int) -> tuple[str | None, str | None]:
    """(reason, text) when trafilatura on the unpruned page finds a better body than Arshif's
    `words` and `prose` lines (safety_net.better_body), else (None, None).

    The page is parsed again (pruning changed the first tree). trafilatura's main
    pass alone decides whether there is such a body (half the cost); only then does
    it run as a user would call it (main pass, then its readability/justext
    comparison), whose body is kept when it passes the same test.
    """
    main = _body_text(parse_html(body, content_type)[0], url, _MAIN_PASS_OPTIONS)
    if not better_body(main, words, prose):
        return None, None
    text = _body_text(parse_html(body, content_type)[0], url)
    if not better_body(text, words, prose):
        text = main
    reason = "no body" if not words else f"{words} words, trafilatura on the unpruned page {_words(text)}"
    logger.info("Extraction fallback on %s: %s", url, reason)
    return reason, text


def _body_text(tree, url: str, body_options: Extractor = _BODY_OPTIONS) -> str:
    """trafilatura's body text of the tree ("" when it finds none), without metadata."""
    options = copy(body_options)
    options.url = url  # and source, as Extractor(url=url) sets them (source is only logged)
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")
    extracted = trafilatura.bare_extraction(tree, options=options)
    return (extracted.text if extracted is not None else "") or ""


def _article_verdict(meta: PageMetadata, text: str, words: int, min_words: int) -> tuple[bool, str]:
    if not text:
        return False, "no body text"
    if words < min_words:
        return False, f"{words} words (< {min_words})"
    if not meta.says_article and not any(_words(p) >= 25 for p in text.split("\n")):
        return False, "no paragraph of 25 words: a listing"
    return True, "article"


def _declared_canonical(url: str, declared: tuple[str | None, ...]) -> str:
    """The page's canonical URL when it declares one on the same site; malformed ones are ignored."""
    for candidate in declared:
        if not candidate:
            continue
        try:
            absolute = urljoin(url, candidate)
            if same_site(absolute, url):
                return canonical_url(absolute)
        except ValueError:  # "//[", a port of 99999: a broken tag, not a reason to fail
            continue
    try:
        return canonical_url(url)
    except ValueError:
        return url
