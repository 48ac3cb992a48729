"""Generate a local Arabic news site for the throughput benchmark.

    python -m bench.throughput.generate --pages 10000 --out /tmp/arshif-bench/site-10000

Writes N article pages (~22 KB each: ticker, nav, comments with timestamps, a
comment form, related and most-read lists, footer), section listings with
pagination that link every article, a sitemap index, robots.txt, the source
file `bench.toml` (placeholder origin http://bench.invalid, for
`--base-url`) and `manifest.json` (what each page is, and what a crawl should
find). Deterministic for a seed; text comes from bench/throughput/bank.py.

Page kinds: original Arabic articles; ~10% exact copies (same title and body,
other boilerplate and URL); ~10% near copies (headline edited, a paragraph
added or dropped, tashkeel or hamza variants); ~5% English or Persian bodies
in the Arabic template; ~2% photo galleries (too short to be an article).
Half the pages are semantic (JSON-LD, article:published_time, <article>,
<time>), half div soup with only a visible Arabic dateline.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from html import escape
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.throughput import bank

VERSION = 3  # bump when pages change: a generated site is reused only at the same version
PLACEHOLDER_ORIGIN = "http://bench.invalid"
PER_LISTING = 30
PER_SITEMAP = 5000
DEFAULT_OUT = "/tmp/arshif-bench/site-{pages}"
ARTICLE_ALLOW = r"/articles/\d+\.html$"
FOLLOW_ALLOW = (r"/section/", r"/$", r"/index\.html$")
# share of pages per kind, in plan order
KIND_SHARES = (("foreign", 0.05), ("exact", 0.10), ("near", 0.10), ("gallery", 0.02))
START = datetime(2023, 1, 1, 6, 0)
SPAN_DAYS = 3 * 365

MONTHS_MSA = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
MONTHS_LEVANT = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول",
                 "تشرين الثاني", "كانون الأول"]
WEEKDAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass
class PagePlan:
    id: int
    kind: str  # original, exact, near, foreign, gallery
    section: str
    template: str  # semantic, soup
    published: str  # ISO, local time +03:00
    title: str
    language: str = "ar"
    original: int | None = None  # for copies: the page they copy
    mutations: list[str] = field(default_factory=list)


def _rng(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _story_title(seed: int, story: int, section: str) -> str:
    return bank.arabic_headline(_rng(seed, "title", story), section)


def _story(seed: int, story: int, section: str) -> dict:
    """The original text of story `story`: paragraphs, author, caption."""
    rng = _rng(seed, "body", story)
    return {
        "paragraphs": bank.arabic_paragraphs(rng, section, rng.randint(6, 10)),
        "author": bank.person(rng),
        "caption": rng.choice(bank.CAPTIONS),
    }


def make_plan(pages: int, seed: int) -> list[PagePlan]:
    plan: list[PagePlan] = []
    originals: list[int] = []
    for i in range(1, pages + 1):
        rng = _rng(seed, "plan", i)
        roll, kind, edge = rng.random(), "original", 0.0
        for name, share in KIND_SHARES:
            edge += share
            if roll < edge:
                kind = name
                break
        if kind in ("exact", "near") and not originals:
            kind = "original"
        template = rng.choice(("semantic", "soup"))
        moment = START + timedelta(days=SPAN_DAYS * i / pages, minutes=rng.randint(0, 20 * 60))
        if kind in ("exact", "near"):
            source = plan[rng.choice(originals) - 1]
            days = rng.choice((0, 0, 0, 1, 2, -1))  # mostly later republications, sometimes the wire original
            published = datetime.fromisoformat(source.published[:19]) + timedelta(days=days, minutes=rng.randint(5, 300))
            entry = PagePlan(i, kind, source.section, template, published.isoformat() + "+03:00", source.title,
                             original=source.id)
            if kind == "near":
                choices = ["headline", "drop_paragraph", "add_paragraph", "tashkeel", "hamza"]
                entry.mutations = sorted(rng.sample(choices, rng.randint(1, 3)))
                if "headline" in entry.mutations:
                    entry.title = rng.choice(bank.HEADLINE_EDITS) + entry.title
            plan.append(entry)
            continue
        section = rng.choice(bank.SECTION_SLUGS)
        entry = PagePlan(i, kind, section, template, moment.isoformat() + "+03:00", "")
        if kind == "foreign":
            entry.language = rng.choice(("en", "fa"))
            entry.title = bank.foreign_story(_rng(seed, "foreign", i), entry.language, 1)[0]
        elif kind == "gallery":
            entry.title = bank.GALLERY_LINES[i % len(bank.GALLERY_LINES)].format(
                topic=rng.choice(bank.SECTIONS[section]["topics"]), city=rng.choice(bank.CITIES))
        else:
            entry.title = _story_title(seed, i, section)
            originals.append(i)
        plan.append(entry)
    return plan


def expected_outcomes(plan: list[PagePlan]) -> dict:
    """What a crawl should record, by kind of page, with exact-hash dedup only and with near-duplicates."""
    normalization_only = {"tashkeel", "hamza", "headline"}  # body tokens unchanged after normalize_arabic
    counts = {"articles": len(plan)}
    for entry in plan:
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
    near_same_body = sum(1 for e in plan if e.kind == "near" and set(e.mutations) <= normalization_only)
    counts["near_same_body_tokens"] = near_same_body
    counts["expected_stored_exact_dedup"] = counts.get("original", 0) + counts.get("near", 0) - near_same_body
    counts["expected_duplicates_exact_dedup"] = counts.get("exact", 0) + near_same_body
    counts["expected_stored_near_dedup"] = counts.get("original", 0)
    counts["expected_duplicates_near_dedup"] = counts.get("exact", 0) + counts.get("near", 0)
    counts["expected_not_arabic"] = counts.get("foreign", 0)
    counts["expected_not_article"] = counts.get("gallery", 0)
    return counts


# --- dates -----------------------------------------------------------------------


def _visible_date(moment: datetime, style: int) -> str:
    d, m, y = moment.day, moment.month, moment.year
    hh, mm = moment.hour, moment.minute
    weekday = WEEKDAYS[moment.weekday()]
    ampm = "ص" if hh < 12 else "م"
    h12 = hh % 12 or 12
    if style == 0:
        return f"نشر في: {weekday} {d} {MONTHS_LEVANT[m - 1]} / {MONTHS_MSA[m - 1]} {y} - {h12}:{mm:02d} {ampm}"
    if style == 1:
        return f"{weekday}، {d} {MONTHS_MSA[m - 1]} {y} | {hh:02d}:{mm:02d}"
    if style == 2:
        return f"{y}/{m:02d}/{d:02d} {hh:02d}:{mm:02d}"
    if style == 3:
        return f"تاريخ النشر: {d:02d}/{m:02d}/{y}"
    if style == 4:
        return f"{d} {MONTHS_MSA[m - 1]} {y}".translate(_INDIC)
    return f"{weekday} {d} {MONTHS_LEVANT[m - 1]} {y} - {hh:02d}:{mm:02d}"


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso[:19])


# --- page parts ------------------------------------------------------------------


def _nav(current: str | None) -> str:
    active = ' class="active"'
    items = ['<li><a href="/">الرئيسية</a></li>'] + [
        f'<li{active if slug == current else ""}><a href="/section/{slug}/">{escape(bank.SECTIONS[slug]["name"])}</a></li>'
        for slug in bank.SECTION_SLUGS
    ]
    return "\n".join(items)


def _link(plan: list[PagePlan], page_id: int) -> str:
    return f'<a href="/articles/{page_id}.html">{escape(plan[page_id - 1].title)}</a>'


def _ticker(rng, plan: list[PagePlan], soup: bool) -> str:
    ids = [rng.randint(1, len(plan)) for _ in range(rng.randint(36, 48))]
    if soup:
        inner = " &nbsp;•&nbsp; ".join(_link(plan, i) for i in ids)
        return f'<div class="brk"><span class="lb">عاجل:</span><marquee direction="right" scrollamount="4">{inner}</marquee></div>'
    items = "\n".join(f"<li>{_link(plan, i)}</li>" for i in ids)
    return f'<div class="breaking-ticker" aria-label="شريط الأخبار"><span class="label">عاجل</span><ul>\n{items}\n</ul></div>'


def _teasers(rng, plan: list[PagePlan], count: int) -> list[int]:
    return [rng.randint(1, len(plan)) for _ in range(count)]


def _comments(rng, published: datetime, soup: bool) -> str:
    count = rng.randint(3, 9)
    rows = []
    moment = published
    for _ in range(count):
        moment += timedelta(minutes=rng.randint(20, 900))
        name = escape(rng.choice(bank.COMMENT_NAMES))
        text = escape(rng.choice(bank.COMMENT_TEXTS) + "، " + rng.choice(bank.COMMENT_TEXTS))
        stamp = moment.strftime("%Y-%m-%d %H:%M")
        if soup:
            rows.append(f'<div class="itm"><p class="n">{name}</p><p>{text}</p><p class="t">{stamp}</p></div>')
        else:
            rows.append(f'<li class="comment"><div class="comment-author">{name}</div>'
                        f'<time datetime="{moment.isoformat()}+03:00">{stamp}</time><p>{text}</p></li>')
    if soup:
        return (f'<div class="box-7"><div class="hd">التعليقات ({count})</div>\n' + "\n".join(rows) + "\n</div>\n"
                '<div class="box-8"><div class="hd">أضف تعليقك</div>\n<p>لن يتم نشر بريدك الإلكتروني</p>\n'
                '<div class="fr"><span>الاسم</span> <input type="text" name="n" size="30"></div>\n'
                '<div class="fr"><span>البريد الإلكتروني</span> <input type="text" name="m" size="30"></div>\n'
                '<div class="fr"><span>التعليق</span> <textarea name="c" rows="4" cols="40"></textarea></div>\n'
                '<div class="fr"><input type="button" value="إرسال"></div>\n</div>')
    return (f'<section class="comments" id="comments"><h3>التعليقات ({count})</h3>\n<ol class="comment-list">\n'
            + "\n".join(rows) + "\n</ol>\n"
            '<div id="respond" class="comment-respond"><h3>أضف تعليقاً</h3>\n'
            '<form action="/comment" method="post"><p class="notes">لن يتم نشر عنوان بريدك الإلكتروني. الحقول الإلزامية مشار إليها بـ *</p>\n'
            '<p><label for="author">الاسم *</label> <input id="author" name="author" type="text" size="30"></p>\n'
            '<p><label for="email">البريد الإلكتروني *</label> <input id="email" name="email" type="email" size="30"></p>\n'
            '<p><label for="comment">التعليق</label> <textarea id="comment" name="comment" rows="6"></textarea></p>\n'
            '<p><button type="submit">إرسال التعليق</button></p></form></div></section>')


def _footer(soup: bool, year: int) -> str:
    links = ('<a href="/">الرئيسية</a> | <a href="/section/local/">محليات</a> | <a href="/section/world/">عربي ودولي</a>'
             ' | <a href="/sitemap.xml">خريطة الموقع</a>')
    about = ("شبكة المرصد الإخبارية موقع إخباري مستقل يغطي الشؤون المحلية والعربية والدولية على مدار الساعة، "
             "ويلتزم بمعايير الدقة والحياد في نقل الخبر. للإعلان والتواصل: الإدارة العامة، شارع الجمهورية، بناية رقم 12.")
    if soup:
        return (f'<div class="ftr"><div class="fl">{links}</div><div class="ab">{about}</div>'
                f'<div class="cp">جميع الحقوق محفوظة © {year} {bank.SITE_NAME}</div></div>')
    return (f'<footer class="site-footer"><div class="footer-links">{links}</div><p class="about">{about}</p>'
            '<div class="social">تابعونا على: <a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">يوتيوب</a> <a href="#">تلغرام</a></div>'
            f'<p class="copyright">جميع الحقوق محفوظة © {year} {bank.SITE_NAME}</p></footer>')


_SCRIPTS = ('<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}'
            'gtag("js",new Date());gtag("config","G-BENCH0001");var _site={"name":"almarsad","ads":true,"slots":["top","side","inread"]};'
            'document.addEventListener("DOMContentLoaded",function(){var t=document.querySelector(".today");'
            'if(t){t.setAttribute("data-ready","1");}});</script>')
_STYLE = ('<style>body{font-family:Tahoma,Arial,sans-serif;direction:rtl;margin:0;background:#f4f4f4}'
          '.wrap{max-width:1180px;margin:0 auto;background:#fff}.breaking-ticker,.brk{background:#b00;color:#fff;overflow:hidden}'
          '.breaking-ticker ul{display:flex;gap:2em;list-style:none;white-space:nowrap}.sidebar,.col-l{float:left;width:300px}'
          'article,.col-r{float:right;width:820px}.comments li{border-bottom:1px solid #ddd;padding:.5em 0}</style>')


def _body(plan: list[PagePlan], entry: PagePlan, seed: int) -> tuple[str, list[str], str, str]:
    """(title, paragraphs, author, caption) of a page, with its copy edits applied."""
    rng = _rng(seed, "edit", entry.id)
    if entry.kind == "foreign":
        title, paragraphs = bank.foreign_story(_rng(seed, "foreign", entry.id), entry.language,
                                               _rng(seed, "flen", entry.id).randint(5, 8))
        return title, paragraphs, bank.person(rng), rng.choice(bank.CAPTIONS)
    if entry.kind == "gallery":
        return entry.title, [rng.choice(bank.CAPTIONS) + " - " + escape(entry.title)], bank.person(rng), rng.choice(bank.CAPTIONS)
    story_id = entry.original or entry.id
    story = _story(seed, story_id, entry.section)
    paragraphs = list(story["paragraphs"])
    title = entry.title
    for mutation in entry.mutations:
        if mutation == "drop_paragraph" and len(paragraphs) > 3:
            paragraphs.pop(rng.randrange(1, len(paragraphs)))
        elif mutation == "add_paragraph":
            paragraphs.insert(rng.randrange(1, len(paragraphs) + 1), bank.arabic_paragraphs(rng, entry.section, 1)[0])
        elif mutation == "tashkeel":
            paragraphs = [bank.add_tashkeel(p, rng) for p in paragraphs]
            title = bank.add_tashkeel(title, rng)
        elif mutation == "hamza":
            paragraphs = [bank.hamza_variants(p, rng) for p in paragraphs]
            title = bank.hamza_variants(title, rng)
    return title, paragraphs, story["author"], story["caption"]


def article_html(plan: list[PagePlan], entry: PagePlan, seed: int) -> str:
    rng = _rng(seed, "page", entry.id)
    title, paragraphs, author, caption = _body(plan, entry, seed)
    published = _moment(entry.published)
    soup = entry.template == "soup"
    section_name = bank.SECTIONS[entry.section]["name"]
    url = f"__BASE_URL__/articles/{entry.id}.html"
    today = _visible_date(published + timedelta(days=rng.randint(0, 400)), 1)
    lang = entry.language if entry.kind == "foreign" and rng.random() < 0.5 else "ar"
    related = "\n".join(
        f'<li>{_link(plan, i)} <span class="date">{_moment(plan[i - 1].published):%Y-%m-%d}</span></li>'
        for i in _teasers(rng, plan, rng.randint(6, 9))
    )
    most_read = "\n".join(f"<li>{_link(plan, i)}</li>" for i in _teasers(rng, plan, 10))
    tags = "، ".join(rng.sample(bank.SECTIONS[entry.section]["topics"], 3))
    esc_title = escape(title)
    paras_html = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if soup:
        if rng.random() < 0.3:  # text<br><br>text bodies
            body_html = f'<div class="nw">{"<br><br>".join(escape(p) for p in paragraphs)}</div>'
        else:
            body_html = f'<div class="nw">\n{paras_html}\n</div>'
        dateline = _visible_date(published, rng.randint(0, 5))
        head = (f'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n<title>{esc_title} - {bank.SITE_NAME}</title>\n'
                f'<meta name="keywords" content="{escape(tags)}">\n<link rel="stylesheet" href="/static/style.css">')
        main = f"""<div class="cnt">
<div class="col-r">
<div class="path"><a href="/">الرئيسية</a> » <a href="/section/{entry.section}/">{section_name}</a> » {esc_title}</div>
<div class="ttl"><h2>{esc_title}</h2></div>
<div class="inf"><span class="au">{escape(author)}</span> &nbsp; <span class="pd">{dateline}</span></div>
<div class="pic"><img src="/static/pic.gif" alt="" width="600" height="340"><ul class="cap"><li>{escape(caption)}</li></ul></div>
{body_html}
<div class="shr">شارك: فيسبوك | تويتر | واتساب | طباعة</div>
<div class="tg">كلمات دليلية: {escape(tags)}</div>
<div class="box-5"><div class="hd">اقرأ أيضاً</div>
<ul>{related}</ul>
</div>
{_comments(rng, published, soup=True)}
</div>
<div class="col-l"><div class="hd">الأكثر قراءة</div>
<ol>{most_read}</ol>
</div>
</div>"""
        header = (f'<div class="hdr"><div class="tp"><span class="dt">{today}</span></div>'
                  f'<div class="lg"><a href="/">{bank.SITE_NAME}</a></div><div class="mnu"><ul>{_nav(entry.section)}</ul></div></div>')
    else:
        jsonld = json.dumps({
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": entry.published,
            "dateModified": entry.published, "author": {"@type": "Person", "name": author},
            "publisher": {"@type": "Organization", "name": bank.SITE_NAME}, "mainEntityOfPage": url,
            "articleSection": section_name, "inLanguage": lang,
        }, ensure_ascii=False)
        head = (f'<meta charset="utf-8">\n<title>{esc_title} | {bank.SITE_NAME}</title>\n'
                '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f'<meta name="description" content="{escape(paragraphs[0][:160])}">\n'
                f'<meta property="og:type" content="article">\n<meta property="og:title" content="{esc_title}">\n'
                f'<meta property="og:url" content="{url}">\n<meta property="og:site_name" content="{bank.SITE_NAME}">\n'
                f'<meta property="article:published_time" content="{entry.published}">\n'
                f'<meta property="article:section" content="{section_name}">\n<link rel="canonical" href="{url}">\n'
                f'<script type="application/ld+json">{jsonld}</script>\n{_STYLE}')
        main = f"""<main class="content">
<article>
<nav class="breadcrumbs"><a href="/">الرئيسية</a> › <a href="/section/{entry.section}/">{section_name}</a></nav>
<h1>{esc_title}</h1>
<div class="meta"><span class="author">بقلم: {escape(author)}</span> <time datetime="{entry.published}">{_visible_date(published, 1)}</time></div>
<figure><img src="/static/pic.jpg" alt="{escape(caption)}"><figcaption>{escape(caption)}</figcaption></figure>
<div class="article-body" itemprop="articleBody">
{paras_html}
</div>
<div class="tags">الوسوم: {escape(tags)}</div>
<div class="share">شارك المقال: <a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">واتساب</a></div>
</article>
<section class="related"><h3>اقرأ أيضاً</h3><ul>
{related}
</ul></section>
{_comments(rng, published, soup=False)}
</main>
<aside class="sidebar"><div class="most-read"><h3>الأكثر قراءة</h3><ol>
{most_read}
</ol></div><div class="newsletter"><h3>النشرة البريدية</h3><p>اشترك ليصلك ملخص أهم الأخبار يومياً</p></div></aside>"""
        header = (f'<header class="site-header"><div class="top-bar"><span class="today">{today}</span></div>'
                  f'<div class="logo"><a href="/">{bank.SITE_NAME}</a></div><nav class="main-nav"><ul>\n{_nav(entry.section)}\n</ul></nav></header>')
    return f"""<!DOCTYPE html>
<html lang="{lang}" dir="rtl">
<head>
{head}
</head>
<body>
<div class="wrap">
{header}
{_ticker(rng, plan, soup)}
{main}
{_footer(soup, published.year)}
</div>
{_SCRIPTS}
</body>
</html>
"""


def listing_html(plan: list[PagePlan], title: str, ids: list[int], section: str | None, page: int, pages: int,
                 rng: random.Random) -> str:
    items = []
    for i in ids:
        entry = plan[i - 1]
        items.append(f'<div class="item"><h3>{_link(plan, i)}</h3>'
                     f'<span class="date">{_visible_date(_moment(entry.published), 2)}</span></div>')
    pager = ""
    if section and pages > 1:
        links = [f'<a href="{_listing_path(section, k)}">{k}</a>' if k != page else f"<span>{k}</span>"
                 for k in range(1, pages + 1)]
        pager = f'<div class="pagination">{" ".join(links)}</div>'
    sections = " | ".join(f'<a href="/section/{slug}/">{bank.SECTIONS[slug]["name"]}</a>' for slug in bank.SECTION_SLUGS)
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>{escape(title)} | {bank.SITE_NAME}</title>{_STYLE}</head>
<body><div class="wrap">
<header class="site-header"><div class="logo"><a href="/">{bank.SITE_NAME}</a></div><nav class="main-nav"><ul>{_nav(section)}</ul></nav></header>
{_ticker(rng, plan, soup=False)}
<main><h1>{escape(title)}</h1>
<div class="sections">{sections}</div>
{"".join(items)}
{pager}
</main>
{_footer(False, 2025)}
</div></body></html>
"""


def _listing_path(section: str, page: int) -> str:
    return f"/section/{section}/" if page == 1 else f"/section/{section}/page-{page}.html"


def _listing_file(section: str, page: int) -> str:
    return f"section/{section}/index.html" if page == 1 else f"section/{section}/page-{page}.html"


# --- writing -----------------------------------------------------------------------

_WORKER_STATE: dict = {}


def _write_articles(ids: range) -> int:
    plan, seed, root = _WORKER_STATE["plan"], _WORKER_STATE["seed"], _WORKER_STATE["root"]
    total = 0
    for i in ids:
        data = article_html(plan, plan[i - 1], seed).encode("utf-8")
        (root / "articles" / f"{i}.html").write_bytes(data)
        total += len(data)
    return total


def _loopback_key() -> str:
    """The source key that lets a crawl reach 127.0.0.1 (its name changed once)."""
    from crawler.sources import Source

    return "allow_loopback" if "allow_loopback" in Source.__dataclass_fields__ else "allow_private_addresses"


def source_toml() -> str:
    allow = "', '".join(FOLLOW_ALLOW)
    return f"""# The throughput benchmark's generated site (bench/throughput/generate.py).
# Crawl it with --base-url ORIGIN of the server that serves this folder.
name = "bench"
title = "{bank.SITE_NAME} (موقع قياس الأداء)"
site_url = "{PLACEHOLDER_ORIGIN}/"
language = "ar"
start_urls = ["{PLACEHOLDER_ORIGIN}/"]
sitemaps = ["{PLACEHOLDER_ORIGIN}/sitemap.xml"]
allowed_domains = ["bench.invalid"]
article_allow = ['{ARTICLE_ALLOW}']
follow_allow = ['{allow}']
{_loopback_key()} = true
checked_live = true
notes = "Generated; see bench/throughput/README.md."

[limits]
max_depth = 4
"""


def generate(pages: int, out: Path, seed: int = 1, jobs: int = 0) -> dict:
    """Write the site to `out` (replaced if present); return the manifest."""
    started = time.monotonic()
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "articles").mkdir(parents=True)
    (out / "sitemaps").mkdir()
    plan = make_plan(pages, seed)

    _WORKER_STATE.update(plan=plan, seed=seed, root=out)
    jobs = jobs or min(2, os.cpu_count() or 1)
    step = 500
    chunks = [range(a, min(a + step, pages + 1)) for a in range(1, pages + 1, step)]
    if jobs > 1 and len(chunks) > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            article_bytes = sum(pool.imap_unordered(_write_articles, chunks))
    else:
        article_bytes = sum(_write_articles(c) for c in chunks)

    rng = _rng(seed, "listings")
    listing_count = 0
    by_section: dict[str, list[int]] = {slug: [] for slug in bank.SECTION_SLUGS}
    for entry in plan:
        by_section[entry.section].append(entry.id)
    for slug, ids in by_section.items():
        ids.sort(reverse=True)
        total = max(1, -(-len(ids) // PER_LISTING))
        (out / "section" / slug).mkdir(parents=True)
        for k in range(1, total + 1):
            chunk = ids[(k - 1) * PER_LISTING: k * PER_LISTING]
            html = listing_html(plan, f"{bank.SECTIONS[slug]['name']} - صفحة {k}", chunk, slug, k, total, rng)
            (out / _listing_file(slug, k)).write_text(html, encoding="utf-8")
            listing_count += 1
    latest = list(range(pages, max(0, pages - 40), -1))
    (out / "index.html").write_text(listing_html(plan, "آخر الأخبار", latest, None, 1, 1, rng), encoding="utf-8")
    listing_count += 1

    sitemap_files = []
    for k, start in enumerate(range(0, pages, PER_SITEMAP), 1):
        urls = "\n".join(
            f"<url><loc>__BASE_URL__/articles/{e.id}.html</loc><lastmod>{e.published}</lastmod></url>"
            for e in plan[start:start + PER_SITEMAP]
        )
        name = f"sitemaps/articles-{k}.xml"
        (out / name).write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n', encoding="utf-8")
        sitemap_files.append(name)
    index = "\n".join(f"<sitemap><loc>__BASE_URL__/{name}</loc></sitemap>" for name in sitemap_files)
    (out / "sitemap.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                                     f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{index}\n</sitemapindex>\n',
                                     encoding="utf-8")
    (out / "robots.txt").write_text("User-agent: *\nDisallow: /private/\nSitemap: __BASE_URL__/sitemap.xml\n", encoding="utf-8")
    (out / "bench.toml").write_text(source_toml(), encoding="utf-8")

    manifest = {
        "version": VERSION,
        "seed": seed,
        "pages": pages,
        "listing_pages": listing_count,
        "sitemap_files": len(sitemap_files) + 1,
        "urls_total": pages + listing_count + len(sitemap_files) + 1 + 1,  # + sitemap index + robots.txt
        "article_bytes": article_bytes,
        "mean_article_kb": round(article_bytes / pages / 1024, 1),
        "templates": {t: sum(1 for e in plan if e.template == t) for t in ("semantic", "soup")},
        "languages": {lang: sum(1 for e in plan if e.language == lang) for lang in ("ar", "en", "fa")},
        "expected": expected_outcomes(plan),
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    with (out / "plan.jsonl").open("w", encoding="utf-8") as handle:
        for entry in plan:
            handle.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
    return manifest


def ensure_site(pages: int, out: Path | None = None, seed: int = 1) -> tuple[Path, dict]:
    """Reuse a generated site of the same size, seed and version, or generate it."""
    out = Path(out or DEFAULT_OUT.format(pages=pages))
    manifest_path = out / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (manifest.get("version"), manifest.get("seed"), manifest.get("pages")) == (VERSION, seed, pages):
            (out / "bench.toml").write_text(source_toml(), encoding="utf-8")  # the source keys may have changed
            return out, manifest
    return out, generate(pages, out, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the throughput benchmark's Arabic news site.")
    parser.add_argument("--pages", type=int, default=10_000, help="article pages (default 10,000)")
    parser.add_argument("--out", help="folder to write (default /tmp/arshif-bench/site-N); replaced if present")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=0, help="writer processes (default: up to 2)")
    args = parser.parse_args(argv)
    out = Path(args.out or DEFAULT_OUT.format(pages=args.pages)).resolve()
    repo = Path(__file__).resolve().parents[2]
    if out == repo or repo in out.parents:
        parser.error(f"--out must be outside the repository ({repo})")
    manifest = generate(args.pages, out, args.seed, args.jobs)
    print(json.dumps(manifest, ensure_ascii=False, indent=2))
    print(f"site: {out}\nsource: {out / 'bench.toml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
