"""Show how plain trafilatura/htmldate fail on the div-soup pages.
Usage: python3 leak_report.py [semantic|divsoup] [site_dir]. Needs trafilatura, htmldate and lxml_html_clean."""
import json, os, sys, warnings, logging
logging.disable(logging.CRITICAL)
import trafilatura, htmldate
D = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
man = json.load(open(f"{D}/manifest.json", encoding="utf-8"))
only = sys.argv[1] if len(sys.argv) > 1 else None
for a in man["articles"]:
    if only and only not in a["markup"]:
        continue
    raw = open(D + a["path"], "rb").read()
    text = trafilatura.extract(raw, include_comments=False) or ""
    text = text.replace("\u200c", "")
    leaked = [n for n in a["noise"] if n.replace("\u200c", "") in text]
    missing = [s for s in a["body_sentences"] if s not in text]
    bare = trafilatura.bare_extraction(raw, with_metadata=True)
    bd = bare.date if hasattr(bare, "date") else (bare or {}).get("date")
    hd_fast = htmldate.find_date(raw, extensive_search=False)
    hd_def = htmldate.find_date(raw)
    hd_orig = htmldate.find_date(raw, original_date=True)
    ok = a["published"][:10]
    mark = lambda d: f"{d}{'' if d == ok else '(WRONG)'}"
    print(f"{a['path']} {a['markup']:8} true={ok} bare={mark(bd)} hd_fast={mark(hd_fast)} hd_default={mark(hd_def)} hd_orig={mark(hd_orig)}")
    print(f"   leaked {len(leaked)}/{len(a['noise'])}: {[l[:40] for l in leaked]}")
    if missing:
        print(f"   MISSING body sentences: {len(missing)}")
