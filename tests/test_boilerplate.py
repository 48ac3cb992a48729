"""prune_boilerplate and its helpers on small trees: what goes, what stays."""

from __future__ import annotations

import lxml.html

from pipelines.boilerplate import in_boilerplate_block, merge_lead, prune_boilerplate

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
