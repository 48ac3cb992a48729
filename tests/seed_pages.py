"""Wrap the five shared seed texts in pages carrying the noise their README names.

Which lines of each seed are title, body and noise is read off the seed files
(see ../shared/seeds/README.md); the page around them imitates each publisher's
layout: a div-soup ticker, a duplicated title, caption bullets, comment forms.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SeedPage:
    name: str
    title: str
    body: list[str]
    noise: list[str]
    published: str | None = None  # the date the page's own dateline gives
    head: list[str] = field(default_factory=list)  # noise placed before the headline
    between: list[str] = field(default_factory=list)  # noise between headline and body
    after: list[str] = field(default_factory=list)  # noise after the body
    dateline: str | None = None


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def _clean(line: str) -> str:
    return line.replace("\u00a0", " ").strip().rstrip("\ufffd").strip()


def load_seed_pages(seeds_dir: Path) -> list[SeedPage]:
    files = {p.name[:3]: p for p in sorted(seeds_dir.glob("0*.txt"))}
    pages = []

    lines = [_clean(l) for l in _lines(files["000"])]
    pages.append(SeedPage(
        "000", title=lines[0], body=[lines[5]],
        noise=["آخر تحديث:", "التعليقات", "أضف تعليقاً", lines[11]],
        between=[lines[2], "آخر تحديث:"], after=["التعليقات", "أضف تعليقاً", lines[11]],
    ))

    lines = [_clean(l) for l in _lines(files["001"])]
    body = [l for l in lines[7:37] if l]
    caption = lines[4].lstrip("•").strip()
    pages.append(SeedPage(
        "001", title=lines[1], body=body,
        noise=[lines[2], "كلمات دليلية", caption],
        head=[lines[0]], dateline=lines[3], between=[lines[2], "• " + caption, caption],
        after=["كلمات دليلية"], published="2017-05-24",
    ))

    lines = [_clean(l) for l in _lines(files["002"])]
    body = [l for l in lines[7:] if l]
    captions = [lines[4].lstrip("•").strip(), lines[5]]
    pages.append(SeedPage(
        "002", title=lines[0], body=body, noise=[captions[1]],
        between=[lines[2], "• " + captions[0], captions[1]],
    ))

    lines = [_clean(l) for l in _lines(files["003"])]
    body = [l for l in lines[2:19] if l]
    pages.append(SeedPage(
        "003", title=lines[0], body=body, noise=["أضف تعليقك", "تعليقات  0"],
        after=["أضف تعليقك", "تعليقات  0"],
    ))

    raw = _lines(files["004"])
    lines = [_clean(l) for l in raw]
    ticker = [h.strip() for h in raw[0].split("    ") if len(h.strip()) > 8]
    body = [l for l in lines[16:31] if l]
    pages.append(SeedPage(
        "004", title=lines[13], body=body,
        noise=[*ticker, lines[8], lines[9], lines[33].rstrip(".")],
        head=ticker, dateline=lines[14], between=[lines[8], lines[9]],
        after=[lines[33]], published="2017-09-21",
    ))
    return pages


def render(page: SeedPage) -> str:
    """A div-soup page as many Arabic sites serve it: no <article>, no <time>."""
    esc = html.escape
    ticker = "".join(f'<a href="/n/{i}.html">{esc(h)}</a> &nbsp; ' for i, h in enumerate(page.head))
    between = "".join(f"<div class='c{i}'>{esc(t)}</div>" for i, t in enumerate(page.between))
    body = "".join(f"<p>{esc(p)}</p>" for p in page.body)
    after = "".join(f"<div class='x{i}'><span>{esc(t)}</span></div>" for i, t in enumerate(page.after))
    dateline = f"<div class='d'>{esc(page.dateline)}</div>" if page.dateline else ""
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{esc(page.title)} - موقع إخباري</title></head>
<body>
<div class="top"><div class="m"><a href="/">الرئيسية</a> <a href="/s/1">سياسة</a> <a href="/s/2">اقتصاد</a> <a href="/s/3">رياضة</a></div>
<div class="t1"><marquee>{ticker}</marquee></div></div>
<div class="wrap"><div class="col-8">
<div class="ttl"><h2>{esc(page.title)}</h2></div>
{dateline}{between}
<div class="txt">{body}</div>
{after}
</div></div>
<div class="ft">جميع الحقوق محفوظة © موقع إخباري 2017</div>
</body></html>"""
