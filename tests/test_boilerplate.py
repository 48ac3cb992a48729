"""prune_boilerplate and its helpers on small trees: what goes, what stays."""

from __future__ import annotations

import re
import unicodedata

import lxml.html
import pytest
from lxml import etree

from pipelines.text import boilerplate
from pipelines.text.boilerplate import in_boilerplate_block, merge_lead, prune_boilerplate
from pipelines.text.normalize import normalize_arabic

STORY = (
    "قال المتحدث باسم الوزارة إن فرق الإنقاذ واصلت عملها طوال الليل في المناطق المتضررة من السيول، "
    "وإن الطرق الرئيسية أعيد فتحها صباح اليوم أمام حركة السير بعد إزالة الركام."
)


def tree(body: str):
    return lxml.html.document_fromstring(f"<html><body>{body}</body></html>")


def text(root) -> str:
    return " ".join(" ".join(root.itertext()).split())


def pruned(body: str) -> str:
    root = tree(body)
    prune_boilerplate(root)
    return text(root)


def test_comment_form_and_list_go_story_stays():
    result = pruned(
        f"<div class='story'><p>{STORY}</p></div>"
        "<div id='comments'><h2>إضافة تعليق جديد</h2><form><label>اسمك</label><textarea></textarea></form></div>"
    )
    assert "قال المتحدث" in result
    assert "تعليق" not in result and "اسمك" not in result


def test_ticker_and_read_also_go():
    result = pruned(
        "<div class='ticker'><a href='/1'>عاجل: خبر أول</a><a href='/2'>خبر ثان</a></div>"
        f"<div><p>{STORY}</p><p>اقرأ أيضا: <a href='/3'>خبر قديم عن السيول</a></p></div>"
    )
    assert "خبر أول" not in result and "خبر قديم" not in result
    assert "فرق الإنقاذ" in result


def test_link_list_goes_text_with_a_few_links_stays():
    links = "".join(f"<li><a href='/n/{i}'>عنوان خبر رقم {i} في القائمة</a></li>" for i in range(6))
    result = pruned(f"<ul>{links}</ul><div><p>{STORY} <a href='/x'>الوزارة</a></p></div>")
    assert "عنوان خبر" not in result
    assert "فرق الإنقاذ" in result and "الوزارة" in result


def test_comment_notice_goes_with_its_widget_but_a_story_div_does_not():
    result = pruned(
        f"<div class='story'><div class='txt'><p>{STORY}</p></div>"
        "<div><p>الآراء الواردة في التعليقات أدناه لا تعبر عن رأي الموقع.</p></div>"
        "<div class='fb-comments'></div></div>"
    )
    assert "لا تعبر" not in result
    assert "فرق الإنقاذ" in result


def test_notice_without_comment_words_stays():
    result = pruned(f"<div class='story'><div><p>{STORY}</p></div><div class='disqus'></div></div>")
    assert "فرق الإنقاذ" in result


def test_footer_of_the_article_stays_for_its_dateline_page_footer_goes():
    root = tree(
        f"<article><h1>عنوان</h1><footer class='submitted'><span>الجمعة 8 فيفري 2019</span></footer><p>{STORY}</p></article>"
        "<footer>جميع الحقوق محفوظة</footer>"
    )
    prune_boilerplate(root)
    assert "8 فيفري 2019" in text(root)
    assert "جميع الحقوق" not in text(root)


def test_injected_overlay_and_dialog_go():
    result = pruned(
        f"<div><p>{STORY}</p></div>"
        "<cloudflare-app><flashcard-title>WhatsApp Channel</flashcard-title><p>انضم إلى قناتنا</p></cloudflare-app>"
        "<div role='dialog'><p>اشترك في نشرتنا البريدية</p></div>"
    )
    assert "WhatsApp" not in result and "انضم" not in result and "اشترك" not in result
    assert "فرق الإنقاذ" in result


def test_merge_lead_moves_the_standfirst_into_article_body_in_order():
    root = tree(
        "<div class='article'><div class='article__lead' itemprop='description'><p>مقدمة الخبر في سطر واحد طويل بما يكفي.</p></div>"
        f"tail text<div itemprop='articleBody'>first words<p>{STORY}</p></div></div>"
    )
    merge_lead(root)
    body = root.xpath("//*[@itemprop='articleBody']")[0]
    assert text(body).startswith("مقدمة الخبر")
    assert text(body).index("first words") < text(body).index("قال المتحدث")
    assert "tail text" in text(root.xpath("//div[@class='article']")[0])
    assert "tail text" not in text(body)


def test_merge_lead_leaves_a_link_list_alone():
    root = tree(
        "<div><div class='lead'><a href='/1'>خبر أول مرتبط بالموضوع</a> <a href='/2'>خبر ثان مرتبط</a></div>"
        f"<div itemprop='articleBody'><p>{STORY}</p></div></div>"
    )
    merge_lead(root)
    assert "خبر أول" not in text(root.xpath("//*[@itemprop='articleBody']")[0])


def test_in_boilerplate_block():
    root = tree(
        "<div id='commentsList'><span id='a'>x</span></div><aside><span id='b'>x</span></aside>"
        "<div class='most-read'><span id='c'>x</span></div><div class='story'><span id='d'>x</span></div>"
    )
    found = {span.get("id"): in_boilerplate_block(span) for span in root.iter("span")}
    assert found == {"a": True, "b": True, "c": True, "d": False}


# -- the faster paths give what the plain ones gave ----------------------------------

# Elements of every kind the compiled XPath expressions select, and some they must not.
XPATH_PAGE = (
    "<html><body><nav>م</nav><marquee>م</marquee><form><select></select><textarea></textarea></form>"
    "<footer>f</footer><template>t</template><noscript>n</noscript><iframe></iframe>"
    "<div hidden>h</div><div hidden=''>h2</div><span aria-hidden='true'>a</span><span aria-hidden='false'>a2</span>"
    "<div role='dialog'>d</div><div role='main'>r</div><div aria-modal='true'>m</div><div aria-modal='false'>m2</div>"
    "<div class='c' id='i'><p class=''>x</p><p id=''>y</p><td>z<br>w</td></div><div>v<br></div><section><br></section>"
    "<div itemprop='articleBody'>b</div><span itemprop='articleBodyX'>bx</span><script>s</script>"
    "<script type='application/ld+json'>{}</script><style>s</style><cloudflare-app>o</cloudflare-app><x-y><p>n</p></x-y>"
    "</body></html>"
)


@pytest.mark.parametrize(
    ("compiled", "plain"),
    [
        (
            boilerplate._STRUCTURAL_XPATH,
            (
                "//marquee | //form | //textarea | //select | //nav | //footer | //*[@hidden] | //*[@aria-hidden='true']"
                " | //template | //noscript | //iframe | //*[@role='dialog' or @aria-modal='true']"
            ),
        ),
        (boilerplate._LABELLED_XPATH, "//*[@class or @id]"),
        (boilerplate._BREAKS_XPATH, "//div[br] | //td[br]"),
        (boilerplate._ARTICLE_BODY_XPATH, "//*[@itemprop='articleBody']"),
        (boilerplate._SCRIPTS_XPATH, "//script[not(@type='application/ld+json')] | //style"),
        (boilerplate._overlays, "//body/*[contains(local-name(), '-')]"),
    ],
)
def test_faster_selectors_select_what_the_plain_xpath_did(compiled, plain):
    root = lxml.html.document_fromstring(XPATH_PAGE)
    assert compiled(root) == root.xpath(plain)
    assert compiled(root)  # the page exercises each of them


@pytest.mark.parametrize("limit", [0, 1, 5, 60, 300])
def test_text_within_is_the_joined_text_up_to_the_limit(limit):
    root = tree(
        f"<div> <p>  {STORY} </p><ul><li><a> اقرأ أيضاً </a></li><li> </li></ul>x<b>y</b> z </div><p></p><span>a</span>"
    )
    for element in root.iter():
        full = " ".join(element.itertext()).strip()
        assert boilerplate._text_within(element, limit) == (full if len(full) <= limit else None)
        assert boilerplate._text_over(element, limit) == (len(full) > limit)


def test_text_over_is_the_joined_text_length_over_the_limit():
    """_text_over's C-level bounds (string value, text-node count) decide as the joined itertext does."""
    root = tree(
        f"<div> <p>  {STORY} </p><!-- ملاحظة --><ul><li><a> اقرأ أيضاً </a></li><li> </li></ul>x<?pi y?>"
        "<b>y</b> z <i> </i><span>\u00a0ة\u00a0</span>\n</div><p>\n\t</p><span>a</span><p></p>"
    )
    root.find(".//b").tail = ""  # an empty piece still adds a separator
    for element in root.iter(etree.Element):
        full = len(" ".join(element.itertext()).strip())
        for limit in range(full + 3):
            assert boilerplate._text_over(element, limit) == (full > limit), (element.tag, limit)


@pytest.mark.parametrize(
    "texts",
    [
        [],
        [None, "", None],
        [STORY, None, " ", "١٢٣ abc_² ½", "ـــَ", "x"],
        ["𝐀𝐁 😀 ب", None, "ة"],  # beyond the BMP table
        [None, "\ud800ة"],  # a lone surrogate
    ],
)
def test_count_letters_each_is_count_letters_of_each(texts):
    assert boilerplate._count_letters_each(texts) == [boilerplate._count_letters(text) for text in texts]


def test_count_letters_is_the_alnum_regex():
    # str.isalnum is exactly [^\W_] over every code point
    sample = "".join(map(chr, range(0x20, 0x3000))) + "_٣ ة ـ ١٢ abc ²½"
    assert boilerplate._count_letters(sample) == len(re.findall(r"[^\W_]", sample))
    assert boilerplate._count_letters(None) == boilerplate._count_letters("") == 0


def test_is_boilerplate_key_is_is_boilerplate_line_on_normalized_text():
    for line in ["التعليقات (3)", "اقرأ أيضاً", "  تابعونا على  ", STORY, "شارك:", "عاجل", ""]:
        assert boilerplate.is_boilerplate_key(normalize_arabic(line)) == boilerplate.is_boilerplate_line(line)


def _phrase_match(text: str) -> bool:
    norm = normalize_arabic(text)
    return bool(boilerplate._PHRASE_RE.match(norm) or boilerplate._LABEL_RE.match(norm))


def test_raw_first_word_filter_covers_every_code_point():
    """_may_announce's character classes are complete: outside _RAW_SCAN_RANGES no character
    normalizes to nothing or to anything holding a letter of a phrase."""
    letters = set("".join(boilerplate._ANNOUNCING_NORM)) - {" "}
    scanned = set().union(*(range(start, end) for start, end in boilerplate._RAW_SCAN_RANGES))
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000 or code in scanned:
            continue
        norm = normalize_arabic(chr(code))
        assert norm and not letters.intersection(norm), hex(code)


def test_raw_first_word_filter_composes_like_normalize():
    """A base letter with a combining mark NFKC composes (ا + ٔ → أ) is matched as the base letter."""
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        decomposed = unicodedata.normalize("NFD", chr(code))
        if len(decomposed) > 1 and _phrase_match(decomposed + "قرا ايضا"):
            assert boilerplate._may_announce(decomposed + "قرا ايضا"), hex(code)


@pytest.mark.parametrize(
    "text",
    [
        *boilerplate._ANNOUNCING,
        *boilerplate._ANNOUNCING_NORM,
        "اقرأ أيضاً: عنوان",
        "  إقرأ أيضا",
        "اقـــرأ ايضاً",  # tatweel
        "أَضِفْ تَعْلِيقاً",  # tashkeel
        "\u200fالتعليقات (12)",  # RLM first
        "ﺍﻗﺮﺃ ﺃﻳﻀﺎ",  # presentation forms
        "الأكثر قراءة",
        "شارك: فيسبوك | تويتر",
        "جميع الحقوق محفوظة © 2024",
        "قد يهمك أيضاً",
        "ﻻ",  # a ligature: normalized whatever it holds
    ],
)
def test_raw_first_word_filter_lets_every_phrase_through(text):
    assert boilerplate._may_announce(text.strip())


@pytest.mark.parametrize(
    "text",
    ["وزير الخارجية يزور بغداد", "Home", "«اقرأ أيضاً»", "12 تعليقات", STORY, "الرئيس", "مصر تفوز على تونس"],
)
def test_raw_first_word_filter_agrees_with_the_phrase_regexes(text):
    """Whatever it lets through or not, it never drops a text the phrase regexes would match."""
    assert boilerplate._may_announce(text) or not _phrase_match(text)
    if text in ("وزير الخارجية يزور بغداد", "Home", STORY):
        assert not boilerplate._may_announce(text)  # and it does spare the common case


def _may_announce_by_translation(text: str) -> bool:
    """The raw filter as first written: drop what normalizes to nothing, then match the first words."""
    from itertools import chain

    dropped, letters = [], {}
    for ch in map(chr, chain.from_iterable(range(start, end) for start, end in boilerplate._RAW_SCAN_RANGES)):
        norm = normalize_arabic(ch)
        if not norm:
            dropped.append(ch)
        elif len(norm) == 1:
            letters.setdefault(norm, []).append(ch)
    words = {phrase.split(" ")[0] for phrase in boilerplate._ANNOUNCING_NORM}
    first = re.compile("|".join("".join("[" + re.escape("".join(letters[ch])) + "]" for ch in word) for word in words))
    stripped = text.translate(dict.fromkeys(map(ord, dropped)))
    return first.match(stripped) is not None or boilerplate._RAW_WILD_RE.search(text) is not None


def test_raw_first_word_regex_matches_as_the_translated_text_did():
    """One regex on the raw text (marks and spaces skipped between letters) = translate, then match."""
    samples = [
        *boilerplate._ANNOUNCING, *boilerplate._ANNOUNCING_NORM, STORY, "", " ", "ا", "ال", "الت", "اقـــرَأْ",
        "\u200f\u00a0 أَضِفْ", "ا\u0654قرا", "آخر الأخبار", "أخبار", "ﺍﻗﺮﺃ", "شا رك", "ش\u200cارك", "شاركنا", "Home",
        "تعليق", "تع ليقات", "١٢ تعليقات", "قـد", "ق", "ﻻ", "وزير", "\u0640\u0640", "«اقرأ أيضاً»",
    ]
    samples += [word[:cut] + mark + word[cut:] for word in ("الاكثر", "مقالات", "كلمات", "النشره") for cut in range(7)
                for mark in ("\u064e", "\u0640", " ", "\u200d", "\u2028")]
    for sample in samples:
        assert boilerplate._may_announce(sample) == _may_announce_by_translation(sample), sample


def test_announced_blocks_same_with_and_without_the_raw_filter(monkeypatch):
    body = (
        f"<div class='story'><p>{STORY}</p><p>اقرأ أيضاً: <a href='/x'>خبر آخر</a></p></div>"
        "<div><h3>الأكثر قراءة</h3><ul><li><a href='/1'>خبر</a></li></ul></div>"
        "<p>كلمات دليلية: سياسة، اقتصاد</p><div><span>ﺍﻗﺮﺃ ﺃﻳﻀﺎ</span><a href='/2'>خبر ثالث</a></div>"
        "<div>جميع الحقوق محفوظة © 2024</div><p>شارك: فيسبوك | تويتر</p><span>عاجل</span>"
    )
    fast = pruned(body)
    monkeypatch.setattr(boilerplate, "_may_announce", lambda text: True)
    assert pruned(body) == fast
    assert "قال المتحدث" in fast and "خبر آخر" not in fast and "محفوظة" not in fast


def test_a_lazy_loaded_body_is_not_hidden_boilerplate():
    """A body kept hidden, in <noscript> or in <template> until a script shows it stays; a dialog does not (issue 22)."""
    body = "".join(f"<div>{'فقرة طويلة من نص المقال تتحدث عن تفاصيل الخبر وتكفي لتكون نثرا. ' * 2}</div>" for _ in range(3))
    for wrapper in ('<div aria-hidden="true">{}</div>', "<div hidden>{}</div>", "<noscript>{}</noscript>", "<template>{}</template>"):
        root = lxml.html.document_fromstring(f"<html><body><h1>عنوان</h1>{wrapper.format(body)}</body></html>")
        prune_boilerplate(root)
        assert root.text_content().count("فقرة طويلة") == 6, wrapper
    root = lxml.html.document_fromstring(f'<html><body><div role="dialog" aria-hidden="true">{body}</div></body></html>')
    prune_boilerplate(root)
    assert "فقرة طويلة" not in root.text_content()
