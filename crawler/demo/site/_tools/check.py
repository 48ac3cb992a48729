"""Consistency check for crawler/demo/site (run: python3 check.py [site_dir])."""
import json, os, re, sys, datetime as dt
from urllib.parse import urlsplit, unquote
from lxml import html, etree

D = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
errors = []
def err(*a): errors.append(" ".join(str(x) for x in a))
norm = lambda s: " ".join(s.replace("\u200c", "").split())

def path_to_file(p):
    p = unquote(urlsplit(p).path)
    if p == "/" or p == "": return os.path.join(D, "index.html")
    return os.path.join(D, p.lstrip("/"))

def resolve(base_path, href):
    href = href.strip()
    if href.startswith("__BASE_URL__"):
        href = href[len("__BASE_URL__"):] or "/"
    sp = urlsplit(href)
    if sp.scheme or sp.netloc:
        return None  # external
    if href.startswith("#") or href.startswith("mailto:") or href.startswith("javascript:"):
        return "skip"
    if not sp.path:
        return "skip"
    if sp.path.startswith("/"):
        return sp.path
    base_dir = os.path.dirname(base_path)
    return os.path.normpath(os.path.join(base_dir, sp.path)).replace("\\", "/")

pages = {}
for root, _, files in os.walk(D):
    for f in files:
        if f.endswith(".html"):
            full = os.path.join(root, f)
            rel = "/" + os.path.relpath(full, D).replace(os.sep, "/")
            raw = open(full, "rb").read()
            try:
                doc = html.fromstring(raw)
            except Exception as e:
                err("parse", rel, e); continue
            pages[rel] = (raw, doc)

links = 0
for rel, (raw, doc) in pages.items():
    for el, attr in [(e, "href") for e in doc.xpath("//a[@href]|//link[@href]")] + [(e, "src") for e in doc.xpath("//img[@src]")]:
        r = resolve(rel, el.get(attr))
        if r is None:
            err("external link", rel, el.get(attr)); continue
        if r == "skip": continue
        links += 1
        if not os.path.isfile(path_to_file(r)):
            err("broken link", rel, el.get(attr))

# xml files
for x in ["sitemap.xml", "feed.rss"]:
    t = etree.fromstring(open(os.path.join(D, x), "rb").read())
    for loc in t.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc", "link"):
        if loc.text and not os.path.isfile(path_to_file(loc.text.replace("__BASE_URL__", "") or "/")):
            err("xml broken", x, loc.text)
robots = open(os.path.join(D, "robots.txt")).read()
if "Sitemap: __BASE_URL__/sitemap.xml" not in robots or "Disallow: /private/" not in robots:
    err("robots.txt")

man = json.load(open(os.path.join(D, "manifest.json"), encoding="utf-8"))
titles = [a["title"] for a in man["articles"]]
sitemap = open(os.path.join(D, "sitemap.xml"), encoding="utf-8").read()
for p in man["not_articles"] + man["listing_pages"] + man.get("robots_disallowed", []):
    if not os.path.isfile(path_to_file(p)): err("missing", p)
TICK_ALL = set()
for a in man["articles"]:
    p = a["path"]
    if not os.path.isfile(path_to_file(p)): err("missing", p); continue
    if f"__BASE_URL__{p}<" not in sitemap: err("not in sitemap", p)
    raw, doc = pages[p]
    text = norm(doc.text_content())
    for s in a["body_sentences"]:
        if norm(s) not in text: err("body sentence not found", p, s[:40])
    for n in a["noise"]:
        if norm(n) not in text: err("noise not on page", p, n[:40])
    # body paragraphs: the ones containing a body sentence's container
    body = doc.xpath('//div[@class="post-body"]|//div[@class="nw"]')
    body_txt = norm(body[0].text_content()) if body else ""
    if not body: err("no body container", p)
    for n in a["noise"]:
        if norm(n) in body_txt: err("noise inside body", p, n[:40])
    heads = [norm(h.text_content()) for h in doc.xpath("//h1|//div[@class='ttl']/h2")]
    if norm(a["title"]) not in heads: err("title not in h1", p)
    lang = doc.get("lang")
    if lang != a["language"]: err("lang", p, lang)
    # ticker
    tick = [norm(x.text_content()) for x in doc.xpath('//div[@class="ticker"]//li')]
    if not tick:
        mq = doc.xpath("//marquee")
        tick = [norm(t) for t in mq[0].text_content().split("•")] if mq else []
    if len(set(tick)) < 30: err("ticker too short", p, len(tick))
    TICK_ALL |= set(tick)
    sem = a["markup"] == "semantic"
    has = lambda xp: bool(doc.xpath(xp))
    checks = {"article": "//article", "time": "//time", "pubmeta": '//meta[@property="article:published_time"]',
              "jsonld": '//script[@type="application/ld+json"]', "canonical": '//link[@rel="canonical"]',
              "ogurl": '//meta[@property="og:url"]', "comments": '//section[@id="comments"]', "nav": "//nav",
              "footer": "//footer", "aside": "//aside"}
    for k, xp in checks.items():
        if sem and not has(xp): err("semantic page lacks", k, p)
        if not sem and k in ("article", "time", "pubmeta", "jsonld") and has(xp): err("divsoup page has", k, p)
    if not sem and not has("//marquee"): err("divsoup without marquee", p)
    if sem:
        ld = json.loads(doc.xpath('//script[@type="application/ld+json"]')[0].text)
        if ld["datePublished"] != a["published"] or ld["headline"] != a["title"]: err("jsonld mismatch", p)
    # comments 2-4, timestamps after the article date
    pub = dt.date.fromisoformat(a["published"][:10])
    stamps = re.findall(r"(\d{4}-\d\d-\d\d) \d\d:\d\d|(\d\d)/(\d\d)/(\d{4}) \d\d:\d\d", text)
    cdates = [dt.date.fromisoformat(s[0]) if s[0] else dt.date(int(s[3]), int(s[2]), int(s[1])) for s in stamps]
    if not 2 <= len(cdates) <= 4: err("comment count", p, len(cdates))
    if any(c <= pub and c != pub for c in cdates) or not cdates or min(cdates) < pub: err("comment before article", p)
    if "كلمات دليلية" not in text or "جميع الحقوق محفوظة" not in text or "اقرأ أيضاً" not in text: err("chrome", p)
    if a["encoding"] == "windows-1256":
        if b"charset=windows-1256" not in raw or re.search(rb"<meta\s+charset", raw, re.I) or b"utf-8" in raw.lower():
            err("cp1256 declaration", p)
        try: raw.decode("utf-8"); err("cp1256 page is valid utf-8?", p)
        except UnicodeDecodeError: pass
for t in TICK_ALL:
    for ti in titles:
        if t in ti or ti in t: err("ticker equals title", t)
# listing checks
home = pages["/index.html"][1]
if not home.xpath('//link[@rel="alternate"][@type="application/rss+xml"][@href="/feed.rss"]'): err("home feed link")
for a in man["articles"]:
    for u in a["also_linked_as"]:
        if not home.xpath(f'//a[@href="{u}"]'): err("home lacks tracking link", u)
for sec in ["politics", "economy"]:
    d = pages[f"/section/{sec}/index.html"][1]
    if not d.xpath('//a[@rel="next"]') or "التالي" not in d.text_content(): err("pagination", sec)
arch = pages["/articles/archive-2025.html"][1]
if len(arch.xpath("//ol[@class='archive']/li/a")) < 15: err("archive too short")
print(f"{len(pages)} html pages, {links} internal links checked, {len(man['articles'])} articles, {len(TICK_ALL)} distinct ticker headlines")
print("\n".join(errors) if errors else "OK: no errors")
sys.exit(1 if errors else 0)
