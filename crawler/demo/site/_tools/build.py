# -*- coding: utf-8 -*-
"""Generate the Arshif demo news site (crawler/demo/site/).

Usage: python3 build.py [OUT_DIR]   (default: the directory above _tools/)
Texts live in content.py; check.py validates the result.
"""
import datetime as dt
import html
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # noqa
from content import ARTICLES, SECTIONS, SITE, TICKER  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(HERE)
KEEP = {"_tools", "README.md"}  # hand-written files that the generator must not delete
B = "__BASE_URL__"
E = html.escape

WEEKDAYS = ["الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
LEV = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول",
       "تشرين الأول", "تشرين الثاني", "كانون الأول"]
EGY = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
       "أكتوبر", "نوفمبر", "ديسمبر"]
AR_DIG = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

SEC = {s: (name, size) for s, name, size in SECTIONS}
BY_ID = {a["id"]: a for a in ARTICLES}

# wire republication: copy the body/title of the original
for a in ARTICLES:
    if a.get("wire_of"):
        src = BY_ID[a["wire_of"]]
        a["title"] = src["title"]
        a["paras"] = list(src["paras"])
        src["wire_copy"] = a["id"]

UTM_ID = 1003
UTM_QS = "?utm_source=facebook&utm_medium=social&fbclid=abc123"

TODAY_SEM = "الأحد ٢٢ تشرين الثاني ٢٠٢٦"
# header "today" line of the div-soup pages, varied like real sites do
TODAY_SOUP = {
    1002: "الأحد 22/11/2026",
    1005: "الأحد، 22 نوفمبر 2026",
    1007: "الأحد 22/11/2026 | بغداد 18°",
    1009: "الأحد 12 جمادى الآخرة 1448هـ - 22 نوفمبر 2026م",
    1010: "الأحد 22-11-2026",
    1012: "الأحد 22 نونبر 2026",
    1014: "الأحد 22/11/2026",
    1016: "الأحد ٢٢ تشرين الثاني ٢٠٢٦",
}
FOOTER = f"جميع الحقوق محفوظة © 2025 {SITE}"
SHARE_SEM = "شارك الخبر: فيسبوك - تويتر - واتساب - تلغرام"
SHARE_SOUP = "شارك: فيسبوك | تويتر | واتساب | طباعة"
WIRE_SOURCE_LINK = "انقر هنا لقراءة الخبر من مصدره"
LAST_MODIFIED_1010 = "(last modified Fri, 21 Feb 2025 06:03:29 GMT )"


def pub_dt(a):
    p = a["published"]
    if "T" in p:
        return dt.datetime.fromisoformat(p)
    return dt.datetime.fromisoformat(p + "T12:00:00")


def url(a, clean=True):
    return f"/articles/{a['id']}.html"


def teaser(a, n=18):
    words = a["paras"][0].split()
    return " ".join(words[:n]) + " ..."


def sorted_articles():
    return sorted(ARTICLES, key=lambda a: pub_dt(a).replace(tzinfo=None), reverse=True)


def nav_html(semantic=True):
    items = [("/", "الرئيسية")] + [(f"/section/{s}/index.html", n) for s, n, _ in SECTIONS] + [
        ("/articles/archive-2025.html", "الأرشيف")]
    if semantic:
        lis = "".join(f'<li><a href="{h}">{E(n)}</a></li>' for h, n in items)
        return f'<nav class="main-nav" aria-label="الأقسام"><ul>{lis}</ul></nav>'
    return '<div class="mnu">' + " | ".join(f'<a href="{h}">{E(n)}</a>' for h, n in items) + "</div>"


def ticker_items(a_id):
    k = (a_id * 7) % len(TICKER)
    rot = TICKER[k:] + TICKER[:k]
    return rot[: 34 + (a_id % 5)]


def related_for(a, n):
    cands = [b for b in ARTICLES if b["id"] != a["id"] and b["lang"] == "ar"
             and not b.get("wire_of") and b["id"] != a.get("wire_of")]
    cands.sort(key=lambda b: (b["section"] != a["section"], abs(b["id"] - a["id"]), b["id"]))
    return cands[:n]


def most_read_for(a, exclude):
    ex = {b["id"] for b in exclude} | {a["id"], a.get("wire_of"), a.get("wire_copy")}
    cands = [b for b in ARTICLES if b["id"] not in ex and b["lang"] == "ar" and not b.get("wire_of")]
    cands.sort(key=lambda b: (b["id"] * 37) % 11)
    return cands[:4]


def visible_sem_date(a):
    d = pub_dt(a)
    if a["lang"] == "en":
        return d.strftime("%A %d %B %Y, %H:%M")
    s = f"{WEEKDAYS[d.weekday()]} {d.day} {LEV[d.month - 1]} {d.year} - {d:%H:%M}"
    return s.translate(AR_DIG)


def footer_html(semantic=True):
    links = ('<a href="/about.html">من نحن</a> | <a href="/feed.rss">RSS</a> | '
             '<a href="/sitemap.xml">خريطة الموقع</a> | <a href="/private/index.html">دخول المحررين</a>')
    if semantic:
        return (f'<footer class="site-footer"><div class="links">{links}</div>'
                f'<p class="copy">{E(FOOTER)}</p></footer>')
    return f'<div class="ftr"><div class="fl">{links}</div><div class="cp">{E(FOOTER)}</div></div>'


def head_common(title, extra="", charset_meta='<meta charset="utf-8">'):
    return (f"<head>\n{charset_meta}\n<title>{E(title)}</title>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="stylesheet" href="/static/style.css">\n'
            f'<link rel="alternate" type="application/rss+xml" title="{E(SITE)}" href="/feed.rss">\n'
            f"{extra}</head>\n")


def page_title(a):
    sec = SEC[a["section"]][0]
    if a["id"] == 1010:  # wire copy: same headline, different suffix than 1004
        return f"{a['title']} | {sec} | {SITE}"
    if a["id"] % 2 or a["id"] == 1004:
        return f"{a['title']} - {SITE}"
    return f"{SITE} | {a['title']}"


def tag_line(a):
    return "كلمات دليلية: " + "، ".join(a["tags"])


# ---------------------------------------------------------------- semantic
def render_semantic(a):
    aid = a["id"]
    sec_name = SEC[a["section"]][0]
    canon = f"{B}/articles/{aid}.html"
    desc = teaser(a, 24)
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a["title"],
        "datePublished": a["published"],
        "author": ({"@type": "Organization", "name": a["author"]} if a["author"] == "كونا"
                   else {"@type": "Person", "name": a["author"]}),
        "publisher": {"@type": "Organization", "name": SITE},
        "mainEntityOfPage": canon,
        "inLanguage": a["lang"],
        "articleSection": sec_name,
        "description": desc,
    }
    extra = (
        f'<meta name="description" content="{E(desc)}">\n'
        f'<link rel="canonical" href="{canon}">\n'
        f'<meta property="og:site_name" content="{E(SITE)}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{E(a["title"])}">\n'
        f'<meta property="og:url" content="{canon}">\n'
        f'<meta property="og:image" content="{B}/static/pic.gif">\n'
        f'<meta property="article:published_time" content="{a["published"]}">\n'
        f'<meta property="article:section" content="{E(sec_name)}">\n'
        f'<meta name="author" content="{E(a["author"])}">\n'
        '<script type="application/ld+json">\n'
        + json.dumps(ld, ensure_ascii=False, indent=1) + "\n</script>\n"
    )
    lang = a["lang"]
    direction = "ltr" if lang == "en" else "rtl"
    ticker = ticker_items(aid)
    related = related_for(a, 4 + aid % 3)
    noise = []
    out = [f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n', head_common(page_title(a), extra)]
    out.append('<body>\n<header class="site-header">\n')
    out.append(f'<div class="top-bar"><span class="today">{E(TODAY_SEM)}</span>'
               f'<a class="rss" href="/feed.rss">RSS</a></div>\n')
    out.append(f'<div class="logo"><a href="/">{E(SITE)}</a></div>\n')
    out.append(nav_html(True) + "\n")
    out.append('<div class="ticker"><span class="ticker-label">عاجل</span><ul>\n'
               + "\n".join(f"<li>{E(t)}</li>" for t in ticker) + "\n</ul></div>\n</header>\n")
    noise += [TODAY_SEM] + ticker
    out.append('<main class="container">\n')
    out.append(f'<div class="breadcrumb"><a href="/">الرئيسية</a> » '
               f'<a href="/section/{a["section"]}/index.html">{E(sec_name)}</a></div>\n')
    out.append('<article class="post">\n')
    out.append(f'<h1 class="post-title">{E(a["title"])}</h1>\n')
    if lang == "en":
        by = f"By {a['author']}"
    else:
        by = ("المصدر: " if a["author"] == "كونا" else "بقلم: ") + a["author"]
    out.append(f'<div class="post-meta"><span class="author">{E(by)}</span> '
               f'<time datetime="{a["published"]}">{E(visible_sem_date(a))}</time></div>\n')
    if aid == 1001:
        out.append('<div class="updated">آخر تحديث:</div>\n')
        noise.append("آخر تحديث:")
    out.append(f'<figure><img src="/static/pic.gif" alt="{E(a["caption"])}" width="640" height="360">'
               f'<figcaption>{E(a["caption"])}</figcaption></figure>\n')
    noise.append(a["caption"])
    out.append('<div class="post-body">\n' + "\n".join(f"<p>{E(p)}</p>" for p in a["paras"]) + "\n</div>\n")
    out.append(f'<div class="share">{E(SHARE_SEM)}</div>\n')
    out.append(f'<div class="tags">{E(tag_line(a))}</div>\n')
    noise += [SHARE_SEM, tag_line(a)]
    out.append("</article>\n")
    out.append('<aside class="related"><h3>اقرأ أيضاً</h3><ul>\n')
    for i, r in enumerate(related):
        date = (f' <span class="date">{visible_sem_date(r).rsplit(" - ", 1)[0]}</span>' if i % 2 == 0 else "")
        out.append(f'<li><a href="{url(r)}">{E(r["title"])}</a>{date}</li>\n')
        noise.append(r["title"])
    out.append("</ul></aside>\n")
    n = len(a["comments"])
    out.append(f'<section id="comments" class="comments">\n<h2>التعليقات ({n})</h2>\n<ol class="comment-list">\n')
    for name, text, ts in a["comments"]:
        iso = ts.replace(" ", "T")
        out.append(f'<li class="comment"><div class="comment-meta"><b class="fn">{E(name)}</b> '
                   f'<time datetime="{iso}">{ts}</time></div><p>{E(text)}</p></li>\n')
        noise.append(text)
    out.append("</ol>\n")
    out.append('<div id="respond"><h3>أضف تعليقاً</h3>\n<form action="#respond" method="post">\n'
               '<p class="comment-notes">لن يتم نشر بريدك الإلكتروني. الحقول المطلوبة مشار إليها بـ *</p>\n'
               '<p><label for="author">الاسم *</label> <input id="author" name="author" type="text"></p>\n'
               '<p><label for="email">البريد الإلكتروني *</label> <input id="email" name="email" type="email"></p>\n'
               '<p><label for="comment">التعليق</label> <textarea id="comment" name="comment" rows="5"></textarea></p>\n'
               '<p><button type="submit">إرسال</button></p>\n</form></div>\n</section>\n')
    noise += ["أضف تعليقاً", "لن يتم نشر بريدك الإلكتروني. الحقول المطلوبة مشار إليها بـ *"]
    out.append("</main>\n" + footer_html(True) + "\n</body>\n</html>\n")
    noise.append(FOOTER)
    return "".join(out), noise


# ---------------------------------------------------------------- div soup
def render_divsoup(a):
    aid = a["id"]
    sec_name = SEC[a["section"]][0]
    enc = a.get("encoding", "utf-8")
    today = TODAY_SOUP[aid]
    ticker = ticker_items(aid)
    related = related_for(a, 4 + aid % 3)
    most = most_read_for(a, related)
    noise = [today] + ticker
    charset = f'<meta http-equiv="Content-Type" content="text/html; charset={enc}">'
    extra = f'<meta name="keywords" content="{E(",".join(a["tags"]))}">\n'
    out = ['<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
           '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
           f'<html lang="{a["lang"]}" dir="rtl">\n',
           head_common(page_title(a), extra, charset_meta=charset)]
    out.append('<body>\n<div id="wrap">\n<div class="hdr">\n')
    out.append(f'<div class="tp"><span class="dt">{E(today)}</span></div>\n')
    out.append(f'<div class="lg"><a href="/"><img src="/static/pic.gif" alt="" width="40" height="40"> {E(SITE)}</a></div>\n')
    out.append(nav_html(False) + "\n</div>\n")
    sep = " &nbsp;•&nbsp; "
    out.append('<div class="brk"><span class="lb">عاجل:</span>'
               '<marquee direction="right" scrollamount="4" onmouseover="this.stop()" onmouseout="this.start()">'
               + sep.join(E(t) for t in ticker) + "</marquee></div>\n")
    out.append('<div class="cnt">\n<div class="col-r">\n')
    out.append(f'<div class="path"><a href="/">الرئيسية</a> » <a href="/section/{a["section"]}/index.html">'
               f'{E(sec_name)}</a> » {E(a["title"])}</div>\n')
    out.append(f'<div class="ttl"><h2>{E(a["title"])}</h2></div>\n')
    au = ("المصدر: " if a["author"] == "كونا" else "") + a["author"]
    out.append(f'<div class="inf"><span class="au">{E(au)}</span> &nbsp; <span class="pd">{E(a["byline"])}</span></div>\n')
    if aid in (1005, 1009):
        out.append('<div class="upd">آخر تحديث: </div>\n')
        noise.append("آخر تحديث:")
    if aid == 1010:
        out.append(f'<div class="lm">{E(LAST_MODIFIED_1010)}</div>\n')
        noise.append(LAST_MODIFIED_1010)
    out.append(f'<div class="pic"><img src="/static/pic.gif" alt="" width="600" height="340">'
               f'<ul class="cap"><li>{E(a["caption"])}</li></ul></div>\n')
    noise.append(a["caption"])
    if a.get("body_format") == "br":
        out.append('<div class="nw">\n' + "\n<br><br>\n".join(E(p) for p in a["paras"]) + "\n</div>\n")
    else:
        out.append('<div class="nw">\n' + "\n".join(f"<p>{E(p)}</p>" for p in a["paras"]) + "\n</div>\n")
    if aid == 1010:
        out.append(f'<div class="src"><a href="/articles/1004.html">{WIRE_SOURCE_LINK}</a></div>\n')
        noise.append(WIRE_SOURCE_LINK)
    out.append(f'<div class="shr">{E(SHARE_SOUP)}</div>\n')
    out.append(f'<div class="tg">{E(tag_line(a))}</div>\n')
    noise += [SHARE_SOUP, tag_line(a)]
    out.append('<div class="box-5"><div class="hd">اقرأ أيضاً</div>\n')
    for i, r in enumerate(related):
        d = pub_dt(r)
        date = f' <span class="d">{d:%Y-%m-%d}</span>' if i % 2 == 0 else ""
        out.append(f'<div class="it"><a href="{url(r)}">{E(r["title"])}</a>{date}</div>\n')
        noise.append(r["title"])
    out.append("</div>\n")
    n = len(a["comments"])
    out.append(f'<div class="box-7"><div class="hd">التعليقات ({n})</div>\n')
    noise.append(f"التعليقات ({n})")
    for name, text, ts in a["comments"]:
        out.append(f'<div class="itm"><p class="n">{E(name)}</p><p>{E(text)}</p><p class="t">{ts}</p></div>\n')
        noise.append(text)
    out.append("</div>\n")
    out.append('<div class="box-8"><div class="hd">أضف تعليقك</div>\n'
               '<p>لن يتم نشر بريدك الإلكتروني</p>\n'
               '<div class="fr"><span>الاسم</span> <input type="text" name="n" size="30"></div>\n'
               '<div class="fr"><span>البريد الإلكتروني</span> <input type="text" name="m" size="30"></div>\n'
               '<div class="fr"><span>التعليق</span> <textarea name="c" rows="4" cols="40"></textarea></div>\n'
               '<div class="fr"><input type="button" value="إرسال"></div>\n</div>\n')
    noise += ["أضف تعليقك", "لن يتم نشر بريدك الإلكتروني"]
    out.append("</div>\n")  # col-r
    out.append('<div class="col-l"><div class="hd">الأكثر قراءة</div>\n')
    for r in most:
        out.append(f'<div class="it"><a href="{url(r)}">{E(r["title"])}</a></div>\n')
        noise.append(r["title"])
    out.append("</div>\n</div>\n")  # col-l, cnt
    out.append(footer_html(False) + "\n</div>\n</body>\n</html>\n")
    noise.append(FOOTER)
    return "".join(out), noise


# ---------------------------------------------------------------- listings
def page_shell(title, body, lang="ar", extra="", ticker_seed=0):
    ticker = ticker_items(ticker_seed)
    return (f'<!DOCTYPE html>\n<html lang="{lang}" dir="rtl">\n' + head_common(title, extra)
            + '<body>\n<header class="site-header">\n'
            f'<div class="top-bar"><span class="today">{E(TODAY_SEM)}</span></div>\n'
            f'<div class="logo"><a href="/">{E(SITE)}</a></div>\n' + nav_html(True) + "\n"
            '<div class="ticker"><span class="ticker-label">عاجل</span><ul>\n'
            + "\n".join(f"<li>{E(t)}</li>" for t in ticker) + "\n</ul></div>\n</header>\n"
            f'<main class="container">\n{body}</main>\n' + footer_html(True) + "\n</body>\n</html>\n")


def item_html(a, href):
    d = pub_dt(a)
    return (f'<li class="item"><h3><a href="{E(href)}">{E(a["title"])}</a></h3>'
            f'<span class="date">{d:%Y-%m-%d}</span><p>{E(teaser(a))}</p></li>\n')


def render_home():
    items = ""
    for a in sorted_articles():
        href = url(a) + (UTM_QS if a["id"] == UTM_ID else "")
        items += item_html(a, href)
    secs = "".join(f'<li><a href="/section/{s}/index.html">{E(n)}</a></li>' for s, n, _ in SECTIONS)
    body = (f'<h1 class="sr">{E(SITE)} - الصفحة الرئيسية</h1>\n'
            f'<section class="latest"><h2>آخر الأخبار</h2><ul class="list">\n{items}</ul></section>\n'
            f'<section class="sections"><h2>الأقسام</h2><ul>{secs}</ul></section>\n'
            '<p class="more"><a href="/articles/archive-2025.html">أرشيف أخبار 2025</a></p>\n')
    extra = f'<meta name="description" content="{E(SITE)}: أخبار العراق والعالم العربي لحظة بلحظة">\n' \
            f'<link rel="canonical" href="{B}/">\n'
    return page_shell(f"{SITE} - الصفحة الرئيسية", body, extra=extra, ticker_seed=0)


def render_sections():
    pages = {}
    for slug, name, size in SECTIONS:
        arts = [a for a in sorted_articles() if a["section"] == slug]
        chunks = [arts[i:i + size] for i in range(0, len(arts), size)] or [[]]
        for pno, chunk in enumerate(chunks, 1):
            fname = "index.html" if pno == 1 else f"page-{pno}.html"
            items = "".join(item_html(a, url(a)) for a in chunk)
            pager = []
            extra = ""
            if pno > 1:
                prev = "index.html" if pno == 2 else f"page-{pno - 1}.html"
                pager.append(f'<a rel="prev" href="{prev}">« السابق</a>')
                extra += f'<link rel="prev" href="{prev}">\n'
            if pno < len(chunks):
                nxt = f"page-{pno + 1}.html"
                # relative on the first page, root-relative further on
                href = nxt if pno == 1 else f"/section/{slug}/{nxt}"
                pager.append(f'<a rel="next" href="{href}">التالي »</a>')
                extra += f'<link rel="next" href="{href}">\n'
            pager_html = (f'<div class="pager">{" | ".join(pager)} <span>صفحة {pno} من {len(chunks)}</span></div>\n'
                          if len(chunks) > 1 else "")
            body = (f'<h1>{E(name)}</h1>\n<ul class="list">\n{items}</ul>\n{pager_html}')
            title = f"{name} - {SITE}" + (f" - صفحة {pno}" if pno > 1 else "")
            pages[f"section/{slug}/{fname}"] = page_shell(title, body, extra=extra, ticker_seed=len(slug))
    return pages


def render_archive():
    items = ""
    for a in sorted_articles():
        d = pub_dt(a)
        items += (f'<li><a href="{a["id"]}.html">{E(a["title"])}</a> <span class="date">{d:%Y-%m-%d}</span>'
                  f'<p class="teaser">{E(teaser(a, 12))}</p></li>\n')
    body = f"<h1>أرشيف الأخبار - 2025</h1>\n<p>جميع الأخبار المنشورة خلال عام 2025 مرتبة من الأحدث إلى الأقدم.</p>\n<ol class=\"archive\">\n{items}</ol>\n"
    return page_shell(f"أرشيف 2025 - {SITE}", body, ticker_seed=3)


def render_about():
    body = (f"<h1>من نحن</h1>\n<p>{E(SITE)} موقع إخباري تجريبي أُنشئ لاختبار مشروع الأرشفة، "
            "وجميع الأخبار المنشورة فيه من تأليف فريق المشروع ولا تمثل أحداثاً حقيقية.</p>\n"
            "<p>للتواصل: يرجى استخدام نموذج الاتصال في الموقع.</p>\n")
    return page_shell(f"من نحن - {SITE}", body, ticker_seed=5)


def render_private():
    return ('<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="robots" content="noindex, nofollow">\n<title>لوحة التحرير - مسودات</title>\n</head>\n'
            '<body>\n<h1>لوحة التحرير</h1>\n<p>مسودة غير منشورة: هذه الصفحة ممنوعة على الزواحف بموجب ملف robots.txt '
            'ويجب ألا تصل إلى الأرشيف.</p>\n<p><a href="/">العودة إلى الرئيسية</a></p>\n</body>\n</html>\n')


def rfc822(d):
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone(dt.timedelta(hours=3)))
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    off = d.utcoffset()
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return (f"{days[d.weekday()]}, {d.day:02d} {months[d.month - 1]} {d.year} "
            f"{d:%H:%M:%S} {sign}{mins // 60:02d}{mins % 60:02d}")


def render_feed():
    items = ""
    for a in sorted_articles()[:8]:
        items += (f"  <item>\n    <title>{E(a['title'])}</title>\n"
                  f"    <link>{B}/articles/{a['id']}.html</link>\n"
                  f"    <guid isPermaLink=\"true\">{B}/articles/{a['id']}.html</guid>\n"
                  f"    <pubDate>{rfc822(pub_dt(a))}</pubDate>\n"
                  f"    <category>{E(SEC[a['section']][0])}</category>\n"
                  f"    <description>{E(teaser(a, 30))}</description>\n  </item>\n")
    newest = pub_dt(sorted_articles()[0])
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
            f"  <title>{E(SITE)}</title>\n  <link>{B}/</link>\n"
            f"  <description>آخر الأخبار من موقع {E(SITE)}</description>\n  <language>ar</language>\n"
            f"  <lastBuildDate>{rfc822(newest)}</lastBuildDate>\n"
            f'  <atom:link href="{B}/feed.rss" rel="self" type="application/rss+xml"/>\n'
            f"{items}</channel>\n</rss>\n")


def render_sitemap():
    rows = ""
    for a in sorted(ARTICLES, key=lambda a: a["id"]):
        p = a["published"]
        lastmod = p if (len(p) > 10 and ("+" in p[10:] or p.endswith("Z"))) else p[:10]
        rows += f"  <url>\n    <loc>{B}/articles/{a['id']}.html</loc>\n    <lastmod>{lastmod}</lastmod>\n  </url>\n"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + rows + "</urlset>\n")


ROBOTS = f"""# robots.txt for the Al-Rafidain News demo site
User-agent: *
Disallow: /private/
Allow: /

Sitemap: {B}/sitemap.xml
"""

CSS = """body{font-family:Tahoma,Arial,sans-serif;margin:0;background:#f4f4f4;color:#222}
.site-header,.hdr{background:#7a1010;color:#fff;padding:6px 12px}
.site-header a,.hdr a{color:#fff}
.main-nav ul,.ticker ul{list-style:none;margin:0;padding:0}
.main-nav li,.ticker li{display:inline-block;margin:0 6px}
.ticker{background:#222;overflow:hidden;white-space:nowrap}
.container,.cnt{max-width:980px;margin:12px auto;background:#fff;padding:12px}
.col-r{float:right;width:70%}.col-l{float:left;width:27%}
.ftr,.site-footer{clear:both;background:#333;color:#ccc;padding:10px;text-align:center}
.itm{border-bottom:1px dotted #ccc}.itm .t,.post-meta{color:#888;font-size:12px}
"""

# 1x1 transparent GIF
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def main():
    if os.path.isdir(OUT):
        for name in os.listdir(OUT):
            if name in KEEP:
                continue
            p = os.path.join(OUT, name)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    os.makedirs(OUT, exist_ok=True)

    def write(rel, text, enc="utf-8"):
        p = os.path.join(OUT, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(text.encode(enc) if isinstance(text, str) else text)

    manifest_articles = []
    for a in sorted(ARTICLES, key=lambda a: a["id"]):
        page, noise = (render_semantic if a["markup"] == "semantic" else render_divsoup)(a)
        enc = a.get("encoding", "utf-8")
        write(f"articles/{a['id']}.html", page, "cp1256" if enc == "windows-1256" else "utf-8")
        # sanity: no noise string inside any body paragraph
        seen = []
        for s in noise:
            for p in a["paras"]:
                assert s not in p, (a["id"], s)
            if s not in seen:
                seen.append(s)
        sents = [a["paras"][i] if isinstance(i, int) else i for i in a["sentences"]]
        for st in sents:
            assert any(st in p for p in a["paras"]), (a["id"], st)
            assert "\u200c" not in st, (a["id"], st)
        expect = "stored"
        if a["lang"] != "ar":
            expect = "not_arabic"
        elif a.get("wire_of"):
            expect = "duplicate"
        manifest_articles.append({
            "path": f"/articles/{a['id']}.html",
            "title": a["title"],
            "author": a["author"],
            "published": a["published"],
            "markup": a["markup"],
            "language": a["lang"],
            "encoding": enc,
            "section": a["section"],
            "expect": expect,
            "duplicate_of": f"/articles/{a['wire_of']}.html" if a.get("wire_of") else None,
            "also_linked_as": [f"/articles/{a['id']}.html{UTM_QS}"] if a["id"] == UTM_ID else [],
            "body_sentences": sents,
            "noise": seen,
        })
    write("index.html", render_home())
    for rel, page in render_sections().items():
        write(rel, page)
    write("articles/archive-2025.html", render_archive())
    write("about.html", render_about())
    write("private/index.html", render_private())
    write("feed.rss", render_feed())
    write("sitemap.xml", render_sitemap())
    write("robots.txt", ROBOTS)
    write("static/style.css", CSS)
    write("static/pic.gif", GIF)

    listing = ["/"] + sorted("/" + r for r in render_sections()) + ["/articles/archive-2025.html"]
    manifest = {
        "site_name": SITE,
        "today_header_date": "2026-11-22",
        "articles": manifest_articles,
        "not_articles": ["/articles/archive-2025.html", "/about.html"] + [p for p in listing if p != "/articles/archive-2025.html"],
        "listing_pages": listing,
        "robots_disallowed": ["/private/index.html"],
        "feeds": {"rss": "/feed.rss", "sitemap": "/sitemap.xml", "robots": "/robots.txt"},
        "special_cases": {
            "tracking_params_url": {"clean": f"/articles/{UTM_ID}.html",
                                    "linked_from_home_as": f"/articles/{UTM_ID}.html{UTM_QS}",
                                    "clean_linked_from": f"/section/{BY_ID[UTM_ID]['section']}/index.html"},
            "wire_republication": {"original": "/articles/1004.html", "copy": "/articles/1010.html"},
            "english_page": "/articles/1015.html",
            "persian_page": "/articles/1016.html",
            "windows_1256_page": "/articles/1014.html",
            "listing_under_articles": "/articles/archive-2025.html",
            "literal_code_in_body": "/articles/1007.html",
        },
    }
    write("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
