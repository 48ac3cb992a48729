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
from itertools import chain

import numpy as np
from lxml import etree

from pipelines.text.normalize import normalize_arabic

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

# XPath compiled once (tree.xpath("…") compiles on every call). Elements with an attribute are
# found as the attribute's parent: `(//@x)/..` selects what `//*[@x]` does, in document order,
# in less than half the time (libxml2 evaluates a predicate on every element).
_STRUCTURAL_XPATH = etree.XPath(
    "//marquee | //form | //textarea | //select | //nav | //footer | //template | //noscript | //iframe"
    " | (//@hidden | //@aria-hidden[.='true'] | //@role[.='dialog'] | //@aria-modal[.='true'])/.."
)
_LABELLED_XPATH = etree.XPath("(//@class | //@id)/..")  # //*[@class or @id]
_LONG_P_XPATH = etree.XPath(".//p[string-length(normalize-space()) > $chars]")
_BREAKS_XPATH = etree.XPath("//br/parent::div | //br/parent::td")  # //div[br] | //td[br]
_ARTICLE_BODY_XPATH = etree.XPath("//@itemprop[.='articleBody']/..")  # //*[@itemprop='articleBody']
_SCRIPTS_XPATH = etree.XPath("//script[not(@type='application/ld+json')] | //style")
_STRING_VALUE_XPATH = etree.XPath("string()", smart_strings=False)
_TEXT_NODES_XPATH = etree.XPath("count(descendant::text())")
# Prose, counted in paragraphs: a text over PROSE_CHARS characters is one, a shorter one over
# SHORT_PROSE_CHARS a third of one (a body written in short lines); texts in links and list items
# (menus, teasers, comment lists) are none.
PROSE_CHARS = 100
SHORT_PROSE_CHARS = 40
SHORT_PROSE_WEIGHT = 1 / 3
_OUTSIDE_LISTS = "[not(ancestor::a or ancestor::li)]"
_PROSE = (
    f"count(SCOPE//text()[string-length(normalize-space()) > {PROSE_CHARS}]{_OUTSIDE_LISTS})"
    f" + count(SCOPE//text()[string-length(normalize-space()) > {SHORT_PROSE_CHARS}]"
    f"[string-length(normalize-space()) <= {PROSE_CHARS}]{_OUTSIDE_LISTS}) * {SHORT_PROSE_WEIGHT!r}"
)
_PROSE_COUNT_XPATH = etree.XPath(_PROSE.replace("SCOPE", ""))
_BLOCK_PROSE_XPATH = etree.XPath(_PROSE.replace("SCOPE", "."))
# A block labelled like boilerplate that holds this much prose is (a wrapper of) the body.
_MIN_BODY_PROSE = 3
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
_MAX_HEADING_CHARS = 60
# The longest text any announcing-phrase check reads (_starts_with_phrase): longer elements are skipped unread.
_MAX_PHRASE_TEXT_CHARS = 300
_ANNOUNCED_SKIP_TAGS = {"html", "body", "head", "script", "style", "title", "meta"}
# A block above this much text is probably the article itself: never drop it whole.
_MAX_DROPPED_BLOCK_CHARS = 4000


def _raw_first_word_filter() -> tuple[re.Pattern, re.Pattern]:
    """What _may_announce needs to tell, on raw text, whether normalize_arabic(text) may start with an announcing phrase.

    Most short texts of a page (menu items, teasers, captions) start with no
    announcing phrase; matching their raw text against the phrases' first words
    spares normalizing them. Each character of _RAW_SCAN_RANGES is classed by
    what normalize_arabic makes of it: nothing (whitespace, tashkeel, tatweel,
    invisible marks: skipped before and between the letters), one letter
    (أ إ آ ٱ ﺍ → ا …: matches that letter), or several characters holding a
    letter (ligatures such as ﻻ: the text is normalized whatever it holds). No
    character outside these ranges normalizes to nothing or to a letter of a
    phrase (tests/test_boilerplate.py checks every code point). The first words
    share one trie-shaped regex, and a word that begins a longer one stands for
    both, so a match reads each character once.
    """
    phrase_letters = set("".join(_ANNOUNCING_NORM)) - {" "}
    dropped, wild, letters = [], [], {}
    for ch in map(chr, chain.from_iterable(range(start, end) for start, end in _RAW_SCAN_RANGES)):
        norm = normalize_arabic(ch)
        if not norm:
            dropped.append(ch)
        elif len(norm) == 1:
            letters.setdefault(norm, []).append(ch)
        elif phrase_letters.intersection(norm):
            wild.append(ch)
    skipped = _char_class(dropped) + "*"
    trie: dict = {}
    for phrase in _ANNOUNCING_NORM:
        node = trie
        for letter in phrase.split(" ")[0]:
            node = node.setdefault(letter, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        if "" in node:
            return ""  # a first word ends here: longer ones add nothing
        branches = [_char_class(letters[letter]) + skipped + pattern(child) for letter, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(skipped + pattern(trie)), re.compile(_char_class(wild))


def _char_class(chars) -> str:
    """A regex character class of `chars`, as ranges of escaped code points."""
    codes = sorted(set(map(ord, chars)))
    ranges = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "[" + "".join(f"\\U{a:08x}" + (f"-\\U{b:08x}" if b > a else "") for a, b in ranges) + "]"


# Where the characters are that normalize_arabic turns into nothing or into Arabic letters.
_RAW_SCAN_RANGES = ((0x0000, 0x0900), (0x1680, 0x1681), (0x2000, 0x2070), (0x3000, 0x3001), (0xFB50, 0xFF00), (0x1EE00, 0x1EF00))
_RAW_FIRST_WORD_RE, _RAW_WILD_RE = _raw_first_word_filter()


def _may_announce(text: str) -> bool:
    """False only when normalize_arabic(text) cannot start with an announcing phrase (see _raw_first_word_filter)."""
    return _RAW_FIRST_WORD_RE.match(text) is not None or _RAW_WILD_RE.search(text) is not None


def _text_len(element) -> int:
    return len(" ".join(element.itertext()).strip())


def _text_within(element, limit: int) -> str | None:
    """The element's text (itertext joined, stripped), or None when it is longer than `limit`.

    Stops reading as soon as the text is known to be too long, so a wrapper's
    whole text is never joined: each piece's stripped core survives the join and
    the strip, so their summed length is a lower bound of the text's length.
    """
    if not len(element):  # a leaf: its own text is all of it
        text = (element.text or "").strip()
        return text if len(text) <= limit else None
    pieces, core = [], 0
    for piece in element.itertext():
        core += len(piece.strip())
        if core > limit:
            return None
        pieces.append(piece)
    text = " ".join(pieces).strip()
    return text if len(text) <= limit else None


def _text_over(element, limit: int) -> bool:
    """_text_len(element) > limit, mostly decided in C.

    The itertext pieces are the subtree's text nodes, so their joined text is
    its string value plus one space between pieces, and stripping it keeps at
    least the stripped string value and at most one more character per text
    node: only an element within those bounds of `limit` has its text read.
    """
    least = len(_STRING_VALUE_XPATH(element).strip())
    if least > limit:
        return True
    if least + _TEXT_NODES_XPATH(element) - 1 <= limit:
        return False
    return _text_within(element, limit) is None


def _has_descendant(element, tag: str) -> bool:
    """element.xpath(".//tag") is not empty, without building the list."""
    return next(element.iterdescendants(tag), None) is not None


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
    text = _text_within(element, _MAX_HEADING_CHARS)
    return bool(text) and _heading_text(text, normalize_arabic(text))


def _heading_text(text: str, norm: str) -> bool:
    """`text` (stripped; `norm` its normalize_arabic form) is an announcing phrase, plus a counter."""
    if len(text) > _MAX_HEADING_CHARS:
        return False
    match = _PHRASE_RE.match(norm)
    return bool(match) and _COUNTER_RE.match(norm[match.end():]) is not None


def _starts_with_phrase(text: str, norm: str) -> bool:
    return len(text) < _MAX_PHRASE_TEXT_CHARS and bool(_PHRASE_RE.match(norm))


def _is_label_line(text: str, norm: str) -> bool:
    """"كلمات دليلية: …", "شارك: فيسبوك | تويتر", "جميع الحقوق محفوظة © …": one short line."""
    return len(text) <= _LABEL_LINE_MAX_CHARS and bool(_LABEL_RE.match(norm))


def _drop_announced_blocks(tree) -> None:
    norms: dict[str, str] = {}  # nested elements often share one text (<li><a>…</a></li>)
    # Elements of the blocks removed so far: checking them could only change what is already gone.
    gone: set = set()

    def drop(element) -> None:
        gone.update(element.iter())
        _remove(element)

    for element in list(tree.iter()):
        if element.getparent() is None or element in gone or not isinstance(element.tag, str):
            continue
        if element.tag in _ANNOUNCED_SKIP_TAGS:
            continue
        # every check below reads at most _MAX_PHRASE_TEXT_CHARS of text: longer elements are none of them
        text = _text_within(element, _MAX_PHRASE_TEXT_CHARS)
        if not text or not _may_announce(text):
            continue  # every check below needs an announcing phrase at the start of the normalized text
        norm = norms.get(text)
        if norm is None:
            norm = norms[text] = normalize_arabic(text)
        if not _heading_text(text, norm):
            # "اقرأ أيضاً: <a>headline</a>" inside the body: drop just that line
            if element.tag in {"p", "li", "span", "strong", "b"} and _starts_with_phrase(text, norm) and _has_descendant(element, "a"):
                drop(element)
            elif element.tag in {"p", "div", "li", "span"} and _is_label_line(text, norm):
                drop(element)
            continue
        if any(_is_heading_like(child) for child in element):
            continue  # the innermost heading decides
        heading = element
        # climb while the heading is the first thing in its block
        while heading.getparent() is not None and heading.getparent().tag not in {"body", "html"}:
            parent = heading.getparent()
            first = next((c for c in parent if isinstance(c.tag, str)), None)
            if first is not heading or _text_over(parent, _MAX_DROPPED_BLOCK_CHARS):
                break
            heading = parent
        if heading is not element and heading.tag in _BLOCK_TAGS | {"article"}:
            drop(heading)
            continue
        # heading in the middle of a block: it and what follows it belong to the widget
        parent = element.getparent()
        if parent is None:
            continue
        siblings = [element, *element.itersiblings()]
        if sum(_text_len(s) for s in siblings) <= _MAX_DROPPED_BLOCK_CHARS:
            for sibling in siblings:
                drop(sibling)
        else:
            drop(element)


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
        if _text_over(sibling, _MAX_NOTICE_CHARS) or _has_descendant(sibling, "h1"):
            return
        if not _COMMENT_WORDS_RE.search(normalize_arabic(" ".join(sibling.itertext()))):
            return
        previous = sibling.getprevious()
        _remove(sibling)
        sibling = previous


def _overlays(tree) -> list:
    """Custom elements (<cloudflare-app>, <flashcard-message>) hung on <body> by injected apps.

    What //body/*[contains(local-name(), '-')] selects, without an XPath walk of the whole tree.
    """
    return [child for body in tree.iter("body") for child in body if isinstance(child.tag, str) and "-" in child.tag]


def _lazy_body(element) -> bool:
    """A hidden, <noscript> or <template> block holding the body until a script shows it (lazy loading):
    _MIN_BODY_PROSE paragraphs of prose or more. Dialogs and modals stay boilerplate."""
    hidden = element.tag in {"noscript", "template"} or element.get("hidden") is not None or element.get("aria-hidden") == "true"
    return (
        hidden
        and element.get("role") != "dialog"
        and element.get("aria-modal") != "true"
        and _BLOCK_PROSE_XPATH(element) >= _MIN_BODY_PROSE
    )


def _drop_structural(tree) -> float:
    """Remove structural boilerplate and blocks labelled as boilerplate; return the prose the
    labelled blocks other than comment blocks held (see prune_boilerplate)."""
    guessed = 0
    for element in _STRUCTURAL_XPATH(tree):
        if element.getparent() is None:
            continue
        if element.tag == "footer" and next(element.iterancestors("article"), None) is not None:
            continue  # the article's own byline/date footer: trafilatura drops it from the text
        if _lazy_body(element):
            continue
        if element.tag in {"textarea", "select"} or element.tag == "form":
            # climb to the form's own block (its labels and notices)
            block = element
            while block.getparent() is not None and block.getparent().tag not in {"body", "html", "article", "main"}:
                parent = block.getparent()
                if _text_over(parent, 600) or _LONG_P_XPATH(parent, chars=200):
                    break
                block = parent
            element = block
        _remove(element)
    for element in _overlays(tree):
        if not _text_over(element, _MAX_OVERLAY_CHARS):
            _remove(element)
    removed: set = set()  # checking what lies inside these could only change what is already gone
    for element in _LABELLED_XPATH(tree):
        if element.getparent() is None or element.tag in {"html", "body", "article", "main"}:
            continue
        label = _label(element)
        if (
            _CLASS_HINT_RE.search(label)
            and not any(map(removed.__contains__, element.iterancestors()))
            and not _text_over(element, _MAX_DROPPED_BLOCK_CHARS - 1)
        ):
            if _has_descendant(element, "h1") or _LONG_P_XPATH(element, chars=250):
                continue  # a wrapper of the article itself
            if _COMMENT_HINT_RE.search(_words_label(element)):
                _drop_comment_notice(element)
            else:
                prose = _BLOCK_PROSE_XPATH(element)
                if prose >= _MIN_BODY_PROSE:
                    continue  # paragraphs as <div>s or <br>-separated text: the body, whatever its wrapper is called
                guessed += prose
            removed.add(element)
            _remove(element)
    return guessed


def _count_letters(text: str | None) -> int:
    """Letters and digits: str.isalnum is exactly the regex class [^\\W_]."""
    return sum(map(str.isalnum, text)) if text else 0


# str.isalnum of every code point of the BMP, for counting many texts' letters in one numpy pass.
_ALNUM = np.fromiter(map(str.isalnum, map(chr, range(0x10000))), dtype=np.uint8, count=0x10000)


def _count_letters_each(texts: list) -> list[int]:
    """[_count_letters(text) for text in texts], in one numpy pass over the texts joined."""
    joined = "".join(filter(None, texts))
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if codes.size and codes.max() > 0xFFFF:  # beyond the table (emoji, math letters): count in Python
        return [_count_letters(text) for text in texts]
    running = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(_ALNUM[codes], out=running[1:])
    ends = np.cumsum([len(text) if text else 0 for text in texts], dtype=np.int64)
    starts = np.concatenate(([0], ends[:-1]))
    return (running[ends] - running[starts]).tolist()


def _link_stats(tree) -> tuple[list, dict]:
    """Block elements in document order, and per block: (letters, letters inside links, links, holds an <h1>).

    One post-order walk with a stack (linear time; only the blocks' proxies are kept).
    The letters of every text and tail are counted beforehand, all in one pass.
    """
    nodes = list(tree.iter())
    counts = _count_letters_each([node.text if isinstance(node.tag, str) else None for node in nodes] + [node.tail for node in nodes])
    text_letters = dict(zip(nodes, counts))
    tail_letters = dict(zip(nodes, counts[len(nodes):]))
    blocks: list = []
    stats: dict = {}
    stack = [(tree, iter(tree), [text_letters[tree], 0, 0, tree.tag == "h1"])]
    if tree.tag in _LINK_LIST_TAGS:
        blocks.append(tree)
    while stack:
        element, children, total = stack[-1]
        child = next(children, None)
        if child is not None:
            if child.tag in _LINK_LIST_TAGS:
                blocks.append(child)
            stack.append((child, iter(child), [text_letters[child], 0, 0, child.tag == "h1"]))
            continue
        stack.pop()
        if element.tag == "a":
            total[1], total[2] = total[0], total[2] + 1
        if element.tag in _LINK_LIST_TAGS:
            stats[element] = tuple(total)
        if stack:
            parent = stack[-1][2]
            parent[0] += total[0] + tail_letters[element]
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
    for block in _BREAKS_XPATH(tree):
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
    for body in _ARTICLE_BODY_XPATH(tree):
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


def prune_boilerplate(tree, extra_selectors: tuple[str, ...] = ()) -> float:
    """Remove boilerplate from an lxml HTML tree in place; return how much prose the guessing rules removed.

    Prose is counted in paragraphs (see PROSE_CHARS): text outside links and
    list items, never a menu item or a teaser. Counted is what went with blocks
    removed for their class or id words (comment blocks aside), their links or
    a per-source selector: the rules that can take an article's body for
    boilerplate. What <footer>, <nav>, forms, comment blocks and blocks under
    an announcing heading hold is not counted.
    """
    for element in _SCRIPTS_XPATH(tree):
        _remove(element)
    etree.strip_elements(tree, etree.Comment, with_tail=False)
    guessed = _drop_structural(tree)
    _drop_announced_blocks(tree)
    before = _PROSE_COUNT_XPATH(tree)
    _drop_link_lists(tree)
    merge_lead(tree)
    paragraphs_from_breaks(tree)
    for selector in extra_selectors:
        for element in tree.cssselect(selector):
            _remove(element)
    return guessed + max(0.0, before - _PROSE_COUNT_XPATH(tree))


def is_boilerplate_line(line: str) -> bool:
    """A line of extracted text that is only an announcing phrase (a leftover heading)."""
    return is_boilerplate_key(normalize_arabic(line))


def is_boilerplate_key(norm: str) -> bool:
    """is_boilerplate_line on a line already normalized (normalize_arabic), so a caller normalizes it once."""
    match = _PHRASE_RE.match(norm)
    return bool(match) and _COUNTER_RE.match(norm[match.end():]) is not None
