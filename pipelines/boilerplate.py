"""Remove the boilerplate trafilatura keeps on Arabic div-soup pages.

Comment lists, comment forms, "read also" lists and tickers are found by
structure (forms, marquees, link lists) and by the Arabic headings that announce
them, so the rule works on sites we have never seen. Per-source CSS selectors
from `seeds/` are applied last, as the exception.
"""

from __future__ import annotations

import re

from lxml import etree

from pipelines.normalize import normalize_arabic

# Headings that announce a block which is never part of the article.
# Compared on normalize_arabic() text, so hamza/ta marbuta/tashkeel variants match.
_ANNOUNCING = [
    "التعليقات",
    "تعليقات",
    "تعليقات القراء",
    "اضف تعليقا",
    "اضف تعليق",
    "اضف تعليقك",
    "اضافه تعليق",
    "اضافه تعليق جديد",
    "اترك تعليقا",
    "اترك تعليق",
    "شاركنا رايك",
    "اقرا ايضا",
    "اقرا المزيد",
    "اقرا كذلك",
    "قد يهمك ايضا",
    "قد يعجبك ايضا",
    "الاكثر قراءه",
    "الاكثر مشاهده",
    "الاكثر تعليقا",
    "الاكثر تداولا",
    "مواضيع ذات صله",
    "اخبار ذات صله",
    "مقالات ذات صله",
    "موضوعات ذات صله",
    "ذات صله",
    "شارك الخبر",
    "شارك المقال",
    "شارك هذا المقال",
    "شارك",
    "تابعونا",
    "تابعنا",
    "تابعونا على",
    "كلمات دليليه",
    "كلمات مفتاحيه",
    "الوسوم",
    "وسوم",
    "اخر الاخبار",
    "احدث الاخبار",
    "عاجل",
    "اخبار عاجله",
    "شريط الاخبار",
    "النشره البريديه",
    "اشترك في النشره البريديه",
    "انقر هنا لقراءه الخبر من مصدره",
    "لن يتم نشر بريدك الالكتروني",
    "لن يتم نشر عنوان بريدك الالكتروني",
    "جميع الحقوق محفوظه",
    "حقوق النشر محفوظه",
]
# Phrases that, followed by a colon, introduce a one-line widget ("شارك: فيسبوك | تويتر").
_LABEL_LINE_MAX_CHARS = 160
_ANNOUNCING_NORM = sorted({normalize_arabic(p) for p in _ANNOUNCING}, key=len, reverse=True)
_PHRASE_RE = re.compile(
    r"^\s*(?:" + "|".join(re.escape(p) for p in _ANNOUNCING_NORM) + r")\b[\s:：\-–—()\d.،»«]*",
)
_LABEL_RE = re.compile(
    r"^\s*(?:" + "|".join(re.escape(p) for p in _ANNOUNCING_NORM) + r")\s*(?:[:：©]|\s©)",
)
_COUNTER_RE = re.compile(r"^[\s:：\-–—()\[\]\d.،]*$")

_STRUCTURAL_XPATH = (
    "//marquee | //form | //textarea | //select | //nav | //footer"
    " | //*[@hidden] | //*[@aria-hidden='true'] | //template | //noscript | //iframe"
)
_CLASS_HINT_RE = re.compile(
    r"(^|[\s_-])(comments?|comment-list|commentlist|comment-form|respond|disqus|fb-comments|path|crumbs?|ftr|foot"
    r"|ticker|breaking|news-?bar|marquee|urgent|related|read-?also|most-?read|share|sharing|social"
    r"|tags?|keywords|breadcrumbs?|newsletter|sidebar|widget|advert|ads?|banner|popup|cookie)($|[\s_-])",
    re.IGNORECASE,
)
_BLOCK_TAGS = {"div", "section", "aside", "ul", "ol", "table", "dl", "header"}
_MAX_HEADING_CHARS = 60
# A block above this much text is probably the article itself: never drop it whole.
_MAX_DROPPED_BLOCK_CHARS = 4000


def _text_len(element) -> int:
    return len(" ".join(element.itertext()).strip())


def _letters(element) -> int:
    return sum(1 for text in element.itertext() for c in text if c.isalnum())


def _remove(element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _is_heading_like(element) -> bool:
    """Short element whose whole text is an announcing phrase (plus a counter)."""
    if not isinstance(element.tag, str) or element.tag in {"html", "body", "head", "p"} and element.getparent() is None:
        return False
    text = " ".join(element.itertext()).strip()
    if not text or len(text) > _MAX_HEADING_CHARS:
        return False
    norm = normalize_arabic(text)
    match = _PHRASE_RE.match(norm)
    return bool(match) and _COUNTER_RE.match(norm[match.end():]) is not None


def _starts_with_phrase(element) -> bool:
    text = " ".join(element.itertext()).strip()
    return bool(text) and len(text) < 300 and bool(_PHRASE_RE.match(normalize_arabic(text)))


def _is_label_line(element) -> bool:
    """"كلمات دليلية: …", "شارك: فيسبوك | تويتر", "جميع الحقوق محفوظة © …": one short line."""
    text = " ".join(element.itertext()).strip()
    if not text or len(text) > _LABEL_LINE_MAX_CHARS:
        return False
    norm = normalize_arabic(text)
    match = _LABEL_RE.match(norm)
    return bool(match)


def _drop_announced_blocks(tree) -> None:
    for element in list(tree.iter()):
        if element.getparent() is None or not isinstance(element.tag, str):
            continue
        if element.tag in {"html", "body", "head", "script", "style", "title", "meta"}:
            continue
        if not _is_heading_like(element):
            # "اقرأ أيضاً: <a>headline</a>" inside the body: drop just that line
            if element.tag in {"p", "li", "span", "strong", "b"} and _starts_with_phrase(element) and element.xpath(".//a"):
                _remove(element)
            elif element.tag in {"p", "div", "li", "span"} and _is_label_line(element):
                _remove(element)
            continue
        if any(_is_heading_like(child) for child in element):
            continue  # the innermost heading decides
        heading = element
        # climb while the heading is the first thing in its block
        while heading.getparent() is not None and heading.getparent().tag not in {"body", "html"}:
            parent = heading.getparent()
            first = next((c for c in parent if isinstance(c.tag, str)), None)
            if first is not heading or _text_len(parent) > _MAX_DROPPED_BLOCK_CHARS:
                break
            heading = parent
        if heading is not element and heading.tag in _BLOCK_TAGS | {"article"}:
            _remove(heading)
            continue
        # heading in the middle of a block: it and what follows it belong to the widget
        parent = element.getparent()
        if parent is None:
            continue
        siblings = [element, *element.itersiblings()]
        if sum(_text_len(s) for s in siblings) <= _MAX_DROPPED_BLOCK_CHARS:
            for sibling in siblings:
                _remove(sibling)
        else:
            _remove(element)


def _drop_structural(tree) -> None:
    for element in tree.xpath(_STRUCTURAL_XPATH):
        if element.getparent() is None:
            continue
        if element.tag in {"textarea", "select"} or element.tag == "form":
            # climb to the form's own block (its labels and notices)
            block = element
            while block.getparent() is not None and block.getparent().tag not in {"body", "html", "article", "main"}:
                parent = block.getparent()
                if _text_len(parent) > 600 or parent.xpath(".//p[string-length(normalize-space()) > 200]"):
                    break
                block = parent
            element = block
        _remove(element)
    for element in tree.xpath("//*[@class or @id]"):
        if element.getparent() is None or element.tag in {"html", "body", "article", "main"}:
            continue
        label = f"{element.get('class', '')} {element.get('id', '')}"
        if _CLASS_HINT_RE.search(label) and _text_len(element) < _MAX_DROPPED_BLOCK_CHARS:
            if element.xpath(".//h1") or element.xpath(".//p[string-length(normalize-space()) > 250]"):
                continue  # a wrapper of the article itself
            _remove(element)


def _drop_link_lists(tree) -> None:
    """Blocks that are mostly links to other pages: tickers, related lists, menus."""
    for element in tree.xpath("//ul | //ol | //div | //section | //aside | //table"):
        if element.getparent() is None:
            continue
        total = _letters(element)
        if total == 0 or total > _MAX_DROPPED_BLOCK_CHARS or element.xpath(".//h1"):
            continue
        links = element.xpath(".//a")
        if len(links) < 4:
            continue
        linked = sum(_letters(a) for a in links)
        if linked / total > 0.7:
            _remove(element)


def paragraphs_from_breaks(tree) -> None:
    """Turn `text<br><br>text` blocks into <p> elements, so div-soup bodies score as text."""
    for block in tree.xpath("//div[br] | //td[br]"):
        pieces = [block.text or ""] + [(child.tail or "") for child in block if child.tag == "br"]
        if sum(len(p.strip()) for p in pieces) < 200:
            continue
        if any(isinstance(child.tag, str) and child.tag not in {"br", "a", "b", "strong", "i", "em", "span"} for child in block):
            continue
        paragraphs: list[list] = [[block.text or ""]]
        for child in list(block):
            if child.tag == "br":
                paragraphs.append([child.tail or ""])
            else:
                paragraphs[-1].append(child)
        for child in list(block):
            block.remove(child)
        block.text = None
        for parts in paragraphs:
            paragraph = etree.SubElement(block, "p")
            paragraph.text = parts[0]
            for part in parts[1:]:
                paragraph.append(part)
            if not "".join(paragraph.itertext()).strip():
                block.remove(paragraph)


def prune_boilerplate(tree, extra_selectors: tuple[str, ...] = ()) -> None:
    """Remove boilerplate from an lxml HTML tree in place."""
    for element in tree.xpath("//script[not(@type='application/ld+json')] | //style"):
        _remove(element)
    etree.strip_elements(tree, etree.Comment, with_tail=False)
    _drop_structural(tree)
    _drop_announced_blocks(tree)
    _drop_link_lists(tree)
    paragraphs_from_breaks(tree)
    for selector in extra_selectors:
        for element in tree.cssselect(selector):
            _remove(element)


def is_boilerplate_line(line: str) -> bool:
    """A line of extracted text that is only an announcing phrase (a leftover heading)."""
    norm = normalize_arabic(line)
    match = _PHRASE_RE.match(norm)
    return bool(match) and _COUNTER_RE.match(norm[match.end():]) is not None
