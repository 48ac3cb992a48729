"""Remove the boilerplate trafilatura keeps on Arabic div-soup pages.

Comment lists, comment forms, "read also" lists and tickers are found by
structure (forms, marquees, dialogs, link lists) and by the Arabic headings that
announce them, so the rule works on sites we have never seen. Per-source CSS
selectors from `seeds/` are applied last, as the exception. The tree is also
prepared for trafilatura: a schema.org lead joins its articleBody, and
`text<br><br>text` blocks become paragraphs.
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
    "الموضوعات المتعلقه",
    "موضوعات متعلقه",
    "اخبار متعلقه",
    "مقالات متعلقه",
    "اخبار اخري",
    "المزيد من الاخبار",
    "انظر ايضا",
    "شاهد ايضا",
    "طالع ايضا",
    "اقرا المزيد من",
    "قد يهمك",
    "الكلمات الدلاليه",
    "كلمات دلاليه",
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
    " | //*[@role='dialog' or @aria-modal='true']"
)
# Custom elements (<cloudflare-app>, <flashcard-message>) hung on <body> by injected apps: overlays.
_OVERLAY_XPATH = "//body/*[contains(local-name(), '-')]"
_MAX_OVERLAY_CHARS = 600
_CLASS_HINT_RE = re.compile(
    r"(^|[\s_-])(comments?|comment-list|commentlist|comment-form|respond|disqus|fb-comments|path|crumbs?|ftr|foot"
    r"|ticker|breaking|news-?bar|marquee|urgent|related|read-?also|most-?read|share|sharing|social"
    r"|tags?|keywords|breadcrumbs?|newsletter|sidebar|widget|advert|ads?|banner|popup|cookie)($|[\s_-])",
    re.IGNORECASE,
)
# Blocks whose dates and text belong to other texts: comments, related lists, tickers, sidebars.
_FOREIGN_HINT_RE = re.compile(
    r"(^|[\s_-])(comments?|comment-list|commentlist|respond|disqus|fb-comments|ticker|breaking|news-?bar|marquee"
    r"|urgent|related|read-?also|most-?read|popular|latest|recommended|sidebar|widget)($|[\s_-])",
    re.IGNORECASE,
)
_COMMENT_HINT_RE = re.compile(r"(^|[\s_-])(comments?|comment-list|commentlist|respond|disqus|fb-comments)($|[\s_-])", re.IGNORECASE)
# Words of a comment-area notice ("الآراء الواردة أدناه لا تعبر عن رأي الموقع"), normalized.
_COMMENT_WORDS_RE = re.compile(r"تعليق|مشاركات|الاراء|comment")
_MAX_NOTICE_CHARS = 700
_CAMEL_RE = re.compile(r"([a-z])([A-Z])")
# The lead (standfirst) of a schema.org article, kept beside its articleBody by many templates.
_LEAD_HINT_RE = re.compile(r"(^|[\s_-])(lead|intro|summary|standfirst|excerpt|sapo|chapeau|teaser)($|[\s_-])", re.IGNORECASE)
_MAX_LEAD_CHARS = 800
_BLOCK_TAGS = {"div", "section", "aside", "ul", "ol", "table", "dl", "header"}
_LINK_LIST_TAGS = {"ul", "ol", "div", "section", "aside", "table"}
_ALNUM_RE = re.compile(r"[^\W_]")
_MAX_HEADING_CHARS = 60
# A block above this much text is probably the article itself: never drop it whole.
_MAX_DROPPED_BLOCK_CHARS = 4000


def _text_len(element) -> int:
    return len(" ".join(element.itertext()).strip())


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


def _label(element) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _words_label(element) -> str:
    """class and id with camelCase split into words: "commentsList" → "comments List"."""
    return _CAMEL_RE.sub(r"\1 \2", _label(element))


def in_boilerplate_block(element) -> bool:
    """The element sits in a comment list, related list, ticker, sidebar, <aside> or <nav>."""
    for ancestor in element.iterancestors():
        if ancestor.tag in {"aside", "nav"} or _FOREIGN_HINT_RE.search(_words_label(ancestor)):
            return True
    return False


def _drop_comment_notice(widget) -> None:
    """The notice a site puts right above its comment widget ("الآراء الواردة أدناه لا تعبر عن رأي …")."""
    sibling = widget.getprevious()
    for _ in range(2):
        while sibling is not None and (not isinstance(sibling.tag, str) or not _text_len(sibling)):
            sibling = sibling.getprevious()
        if sibling is None or sibling.tag not in _BLOCK_TAGS:
            return
        if _text_len(sibling) > _MAX_NOTICE_CHARS or sibling.xpath(".//h1"):
            return
        if not _COMMENT_WORDS_RE.search(normalize_arabic(" ".join(sibling.itertext()))):
            return
        previous = sibling.getprevious()
        _remove(sibling)
        sibling = previous


def _drop_structural(tree) -> None:
    for element in tree.xpath(_STRUCTURAL_XPATH):
        if element.getparent() is None:
            continue
        if element.tag == "footer" and element.xpath("ancestor::article"):
            continue  # the article's own byline/date footer: trafilatura drops it from the text
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
    for element in tree.xpath(_OVERLAY_XPATH):
        if _text_len(element) <= _MAX_OVERLAY_CHARS:
            _remove(element)
    for element in tree.xpath("//*[@class or @id]"):
        if element.getparent() is None or element.tag in {"html", "body", "article", "main"}:
            continue
        label = _label(element)
        if _CLASS_HINT_RE.search(label) and _text_len(element) < _MAX_DROPPED_BLOCK_CHARS:
            if element.xpath(".//h1") or element.xpath(".//p[string-length(normalize-space()) > 250]"):
                continue  # a wrapper of the article itself
            if _COMMENT_HINT_RE.search(_words_label(element)):
                _drop_comment_notice(element)
            _remove(element)


def _count_letters(text: str | None) -> int:
    return len(_ALNUM_RE.findall(text)) if text else 0


def _link_stats(tree) -> tuple[list, dict]:
    """Block elements in document order, and per block: (letters, letters inside links, links, holds an <h1>).

    One post-order walk with a stack (linear time; only the blocks' proxies are kept).
    """
    blocks: list = []
    stats: dict = {}
    stack = [(tree, iter(tree), [_count_letters(tree.text), 0, 0, tree.tag == "h1"])]
    if tree.tag in _LINK_LIST_TAGS:
        blocks.append(tree)
    while stack:
        element, children, total = stack[-1]
        child = next(children, None)
        if child is not None:
            is_tag = isinstance(child.tag, str)
            if child.tag in _LINK_LIST_TAGS:
                blocks.append(child)
            stack.append((child, iter(child), [_count_letters(child.text) if is_tag else 0, 0, 0, child.tag == "h1"]))
            continue
        stack.pop()
        if element.tag == "a":
            total[1], total[2] = total[0], total[2] + 1
        if element.tag in _LINK_LIST_TAGS:
            stats[element] = tuple(total)
        if stack:
            parent = stack[-1][2]
            parent[0] += total[0] + _count_letters(element.tail)
            parent[1] += total[1]
            parent[2] += total[2]
            parent[3] = parent[3] or total[3]
    return blocks, stats


def _drop_link_lists(tree) -> None:
    """Blocks that are mostly links to other pages: tickers, related lists, menus."""
    blocks, stats = _link_stats(tree)  # `blocks` keeps the proxies (the dict keys) alive
    for element in blocks:
        if element.getparent() is None:
            continue
        total, linked, links, has_h1 = stats[element]
        if total == 0 or total > _MAX_DROPPED_BLOCK_CHARS or has_h1 or links < 4:
            continue
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


def merge_lead(tree) -> None:
    """Move a schema.org article's lead paragraph into its articleBody, so the body starts with it.

    Templates often print the standfirst (itemprop="description", class "lead",
    "intro", "summary" …) just above the element marked itemprop="articleBody";
    trafilatura takes the marked element alone and would lose the first paragraph.
    """
    for body in tree.xpath("//*[@itemprop='articleBody']"):
        sibling = body.getprevious()
        for _ in range(3):
            if sibling is None:
                break
            if isinstance(sibling.tag, str) and (
                sibling.get("itemprop") == "description" or _LEAD_HINT_RE.search(_label(sibling))
            ):
                size = _text_len(sibling)
                linked = sum(_text_len(a) for a in sibling.xpath(".//a"))
                if 20 <= size <= _MAX_LEAD_CHARS and linked < size / 2:
                    _remove(sibling)  # keeps its tail text where it was
                    sibling.tail, body.text = body.text, None
                    body.insert(0, sibling)
                break
            sibling = sibling.getprevious()


def prune_boilerplate(tree, extra_selectors: tuple[str, ...] = ()) -> None:
    """Remove boilerplate from an lxml HTML tree in place."""
    for element in tree.xpath("//script[not(@type='application/ld+json')] | //style"):
        _remove(element)
    etree.strip_elements(tree, etree.Comment, with_tail=False)
    _drop_structural(tree)
    _drop_announced_blocks(tree)
    _drop_link_lists(tree)
    merge_lead(tree)
    paragraphs_from_breaks(tree)
    for selector in extra_selectors:
        for element in tree.cssselect(selector):
            _remove(element)


def is_boilerplate_line(line: str) -> bool:
    """A line of extracted text that is only an announcing phrase (a leftover heading)."""
    norm = normalize_arabic(line)
    match = _PHRASE_RE.match(norm)
    return bool(match) and _COUNTER_RE.match(norm[match.end():]) is not None
