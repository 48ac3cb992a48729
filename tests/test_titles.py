"""Site-name suffixes and prefixes cut from page titles, headlines with colons and dashes kept."""

import pytest

from pipelines.text.titles import clean_title

CASES = [
    # site name suffix / prefix, no site_name given
    ("مقتل 5 في غارة على غزة - BBC News عربي", None, "مقتل 5 في غارة على غزة"),
    ("وزير الري يشهد توقيع عقد دراسة | اليوم السابع", None, "وزير الري يشهد توقيع عقد دراسة"),
    ("اليوم السابع | وزير الري يشهد توقيع عقد دراسة", None, "وزير الري يشهد توقيع عقد دراسة"),
    ("الموسوي: الهدف من الزيارة تعزيز العلاقات - الجزيرة نت", None, "الموسوي: الهدف من الزيارة تعزيز العلاقات"),
    ("ارتفاع أسعار النفط عالميا :: موقع الخبر", None, "ارتفاع أسعار النفط عالميا"),
    ("ارتفاع أسعار النفط عالميا – سكاي نيوز عربية", None, "ارتفاع أسعار النفط عالميا"),
    ("ارتفاع أسعار النفط عالميا — الشرق الأوسط", None, "ارتفاع أسعار النفط عالميا"),
    ("ارتفاع أسعار النفط عالميا|اليوم السابع", None, "ارتفاع أسعار النفط عالميا"),
    ("ارتفاع أسعار النفط عالميا » الأخبار", None, "ارتفاع أسعار النفط عالميا"),
    ("Oil prices rise sharply - Reuters", None, "Oil prices rise sharply"),
    # headlines that must stay whole
    ("الموسوي: الهدف من الزيارة تعزيز العلاقات", None, "الموسوي: الهدف من الزيارة تعزيز العلاقات"),
    ("عاجل: انفجار في بيروت", None, "عاجل: انفجار في بيروت"),
    ("الأهلي يفوز على الزمالك 2 - 1", None, "الأهلي يفوز على الزمالك 2 - 1"),
    ("كوفيد-19 يضرب من جديد", None, "كوفيد-19 يضرب من جديد"),
    (
        "الناشط السوداني خالد ماسا لـ«الصباح»: كل الشروط متوفرة",
        None,
        "الناشط السوداني خالد ماسا لـ«الصباح»: كل الشروط متوفرة",
    ),
    ("قال « لا » للحرب في غزة", None, "قال « لا » للحرب في غزة"),  # balanced quotes
    ("ترامب - بايدن: المناظرة الأولى", None, "ترامب - بايدن: المناظرة الأولى"),  # no prefix cut at a dash
    ("مصر - السعودية", None, "مصر - السعودية"),  # neither side longer
    ("عاجل", None, "عاجل"),
    # guillemet headline + site suffix
    ("لـ«الصباح»: كل الشروط متوفرة لثورة جديدة - الصباح", None, "لـ«الصباح»: كل الشروط متوفرة لثورة جديدة"),
    # with site_name, from either end, compared normalized
    ("وزير الري يشهد توقيع عقد دراسة - اليوم السابع", "اليوم السابع", "وزير الري يشهد توقيع عقد دراسة"),
    ("اليوم السابع - وزير الري يشهد توقيع عقد دراسة", "اليوم السابع", "وزير الري يشهد توقيع عقد دراسة"),
    ("وزير الري يشهد توقيع عقد دراسة | اليوم السابع", "اليوم  السابع", "وزير الري يشهد توقيع عقد دراسة"),
    ("مقتل 5 في غارة - BBC News عربي", "BBC News", "مقتل 5 في غارة"),
    ("مقتل 5 في غارة - BBC News", "BBC News عربي", "مقتل 5 في غارة"),
    ("خبر - الجزيرة نت", "الجزيرة.نت", "خبر"),  # shorter than the site name, still cut
    ("المصري اليوم | سعر الذهب", "المصرى اليوم", "سعر الذهب"),  # ى / ي spelling
    ("وصول شحنة لقاحات إلى عمان - صحيفة الرأي الأردنية", "الرأي", "وصول شحنة لقاحات إلى عمان"),
    # the site name wins over the length heuristic: a long suffix is cut too
    ("عاجل - جريدة الشرق الأوسط اللندنية", "الشرق الأوسط", "عاجل"),
    # site name that is also the whole title, or absent
    ("اليوم السابع", "اليوم السابع", "اليوم السابع"),
    ("وزير الري يشهد توقيع عقد دراسة", "اليوم السابع", "وزير الري يشهد توقيع عقد دراسة"),
    # whitespace, bidi marks, duplicates
    ("\u200fعنوان   الخبر\u00a0المهم  - الجزيرة نت", None, "عنوان الخبر المهم"),
    ("  ارتفاع أسعار النفط\n\tعالميا  ", None, "ارتفاع أسعار النفط عالميا"),
    ("ارتفاع أسعار النفط ارتفاع أسعار النفط", None, "ارتفاع أسعار النفط"),
    ("ارتفاع أسعار النفط | ارتفاع أسعار النفط", None, "ارتفاع أسعار النفط"),
    ("ارتفاع أسعار النفط ارتفاع أسعار النفط - اليوم السابع", None, "ارتفاع أسعار النفط"),
    ("خبر عاجل - اليوم السابع", "اليوم السابع", "خبر عاجل"),
    ("", None, ""),
    ("   ", None, ""),
]


@pytest.mark.parametrize(("title", "site_name", "expected"), CASES)
def test_clean_title(title, site_name, expected):
    assert clean_title(title, site_name) == expected


@pytest.mark.parametrize(("title", "site_name", "expected"), [case for case in CASES if case[1]])
def test_clean_title_with_site_name_is_stable(title, site_name, expected):
    once = clean_title(title, site_name)
    assert clean_title(once, site_name) == once


# The displayed headline (issue 22): entities decoded once, the <h1> preferred where it agrees.
from pipelines.extraction.article import extract_article  # noqa: E402
from pipelines.text.titles import displayed_headline  # noqa: E402

H1 = "الحكومة تقر خطة جديدة لدعم المزارعين في المحافظات الجنوبية - لندن"
BODY = "".join(f"<p>{'قال وزير الزراعة إن الخطة تشمل دعما مباشرا للمزارعين وتحديثا لشبكات الري في القرى. ' * 3}</p>" for _ in range(3))


def _page(head: str, h1: str = H1) -> bytes:
    return f'<html><head>{head}</head><body><div class="logo"><h1>الموقع</h1></div><article><h1>{h1}</h1>{BODY}</article></body></html>'.encode()


@pytest.mark.parametrize("declared, expected", [
    ("الحكومة تقر خطة جديدة لدعم المزارعين في المحافظات الجنوبية - لندن", H1),
    ("الحكومة تقر خطة جديدة لدعم المزارعين ...", H1),  # truncated social title
    ("الحكومة تقر خطة جديدة لدعم المزار…", H1),  # cut inside a word
    ("الحكومة تقر خطة جديدة لدعم المزارعين", H1),  # a shorter SEO title: the <h1> is its longer form
    ("الحكومة تقر خطة جديدة لدعم المزارعين في المحافظات الجنوبية - لندن | الموقع", H1),  # site suffix
    ("نتائج مباريات الدوري الممتاز", None),  # another text: the metadata decides
    ("الحكومة تقر خطة جديدة لدعم المزارعين في المحافظات الجنوبية - لندن - أخبار - الموقع", H1),  # several segments
])
def test_displayed_headline_agrees_with_the_declared_one(declared, expected):
    assert displayed_headline(H1, declared, "الموقع") == expected


def test_an_h1_title_keeps_its_last_dash_segment():
    record = extract_article(_page(""), "https://news.example/a")
    assert record["title"] == H1


def test_truncated_og_title_loses_to_the_displayed_headline():
    record = extract_article(_page('<meta property="og:title" content="الحكومة تقر خطة جديدة ...">'), "https://news.example/a")
    assert record["title"] == H1


def test_html_entities_are_decoded_exactly_once_everywhere():
    h1 = "وزير الخارجية: &quot;لا تفاوض تحت الضغط&quot;"
    head = (
        '<meta property="og:title" content="وزير الخارجية: &amp;quot;لا تفاوض تحت الضغط&amp;quot;">'
        '<meta property="og:site_name" content="أخبار &amp;amp; تقارير">'
        '<meta name="description" content="تصريح &amp;quot;حاسم&amp;quot; للوزير">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "وزير الخارجية: &quot;لا تفاوض تحت الضغط&quot;",'
        ' "author": {"name": "سامي &amp; رنا"}}</script>'
    )
    record = extract_article(_page(head, h1=h1), "https://news.example/a")
    assert record["title"] == 'وزير الخارجية: "لا تفاوض تحت الضغط"'
    assert record["description"] == 'تصريح "حاسم" للوزير'
    assert record["site_name"] == "أخبار & تقارير"
    assert record["author"] == "سامي & رنا"
    # once: a literal "&amp;" written in the page as "&amp;amp;" keeps one level
    once = extract_article(_page('<meta property="og:title" content="الحكومة &amp;amp;amp; المزارعون">', h1="عنوان آخر تماما هنا"), "https://news.example/a")
    assert once["title"] == "الحكومة &amp; المزارعون"


def test_a_logo_h1_is_never_the_headline():
    logo = "شبكة الأخبار العربية"
    assert displayed_headline(logo, "شبكة الأخبار العربية | الحكومة تقر خطة جديدة", logo) is None
    assert displayed_headline(logo, "شبكة الأخبار العربية الجديدة والحكومة", None) is None  # no separator after it


def test_a_feed_title_escaped_twice_is_decoded_once():
    from pipelines.extraction.article import ExtractOptions

    html = f"<html><body><div>{BODY}</div></body></html>".encode()
    options = ExtractOptions(hints={"title": "الوزير: &quot;لا تفاوض&quot; اليوم"})
    assert extract_article(html, "https://news.example/a", options=options)["title"] == 'الوزير: "لا تفاوض" اليوم'
