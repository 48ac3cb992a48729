"""One story, one row: the real engine crawls tests/sites/dedup/ twice into one archive.

Day 1 has a story under three URLs (clean, tracking parameters, AMP page that
declares the clean URL canonical), a wire story republished with a new headline
and an extra paragraph (stored too, in the wire story's story cluster), and two
other stories on the same subject. Before day 2, copies of day-1 stories and one
new story appear on the site.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.demo.server import SiteServer
from crawler.items import PageItem
from pipelines.archive.database import open_archive
from pipelines.dedup import DedupPipeline
from pipelines.similarity.fingerprints import content_hash
from pipelines.similarity.near_duplicates import DEFAULT_THRESHOLD
from tests.conftest import crawl

SITE = Path(__file__).resolve().parent / "sites" / "dedup"
SOURCE = SITE / "source.toml"
CLEAN = "/news/amman-ministers.html"
TRACKING = "/news/amman-ministers.html?utm_source=facebook&utm_medium=social&fbclid=IwAR0abc"
AMP = "/amp/news/amman-ministers.html"

# Wire stories across sites: each story of more than one article, its original and its members (one SQL query).
CLUSTERS_SQL = """
SELECT s.id, s.members, s.sources, o.url, o.title, o.published,
       json_group_array(json_object('url', m.url, 'similarity', m.story_similarity, 'match', m.story_match)) AS member_list
FROM stories s JOIN articles o ON o.id = s.original_id JOIN articles m ON m.story_id = s.id
WHERE s.members > 1
GROUP BY s.id
ORDER BY s.members DESC, o.published
"""


def _spider_requests_links_as_found() -> bool:
    """The spider requests a link with its tracking parameters (`fetch_url`, a proposed one-line change)."""
    from crawler.spiders.news import NewsSpider

    spider = NewsSpider(source=str(SOURCE))
    return "utm_source" in spider._request("http://127.0.0.1/a?utm_source=x", spider.parse_article, "test").url


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server for both days; day 2's pages are copied in before the second crawl."""
    root = tmp_path_factory.mktemp("dedup-site")
    shutil.copytree(SITE / "day1", root, dirs_exist_ok=True)
    with SiteServer(root) as server:
        server.root = root
        yield server


@pytest.fixture(scope="module")
def day1(site, tmp_path_factory):
    run = crawl(str(SOURCE), tmp_path_factory.mktemp("day1") / "archive.db", site.origin)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def day2(site, day1, tmp_path_factory):
    """A new run, on another day, over a copy of day 1's archive."""
    db_path = tmp_path_factory.mktemp("day2") / "archive.db"
    with sqlite3.connect(day1.db_path) as source, sqlite3.connect(db_path) as copy:
        source.backup(copy)
    shutil.copytree(SITE / "day2", site.root, dirs_exist_ok=True)
    run = crawl(str(SOURCE), db_path, site.origin)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _articles(run) -> dict[str, dict]:
    return {_path(row["url"]): row for row in run.db.query("SELECT * FROM articles")}


def _duplicates(run) -> dict[str, dict]:
    return {_path(row["url"]): row for row in run.db.query("SELECT * FROM duplicates")}


def test_story_under_three_urls_is_stored_once(day1, site):
    articles, duplicates = _articles(day1), _duplicates(day1)
    story = articles[CLEAN]
    assert story["canonical_url"] == site.origin + CLEAN
    assert AMP not in articles and TRACKING not in articles
    amp = duplicates[AMP]
    assert (amp["duplicate_of"], amp["kind"], amp["similarity"]) == (story["id"], "url", 1.0)
    assert amp["source"] == "dedup-site" and amp["fetched_at"]


def test_tracking_url_is_recorded_as_a_url_duplicate(day1):
    if not _spider_requests_links_as_found():
        pytest.skip("the spider requests canonical URLs, so the tracking URL is never fetched: "
                    "needs `fetch_url` in NewsSpider._request")
    story = _articles(day1)[CLEAN]
    tracking = _duplicates(day1)[TRACKING]
    assert (tracking["duplicate_of"], tracking["kind"], tracking["similarity"]) == (story["id"], "url", 1.0)
    assert tracking["canonical_url"].endswith(CLEAN) and tracking["fetched_at"]


def test_republished_wire_story_is_stored_in_the_wire_story(day1):
    """A near copy is a text of its own: stored, never a duplicates row, and grouped with the story it copies."""
    articles, duplicates = _articles(day1), _duplicates(day1)
    original = articles["/news/gulf-finance-center.html"]
    copy = articles["/news/gulf-network-finance.html"]
    assert "/news/gulf-network-finance.html" not in duplicates
    assert copy["title"] == "الخليج يؤسس شبكة موحدة لملاحقة أموال الإرهاب" and copy["text"] != original["text"]
    assert copy["story_id"] == original["story_id"] == min(copy["id"], original["id"])
    matched = copy if copy["story_match"] is not None else original  # the one stored second matched the other
    assert matched["story_match"] in (copy["id"], original["id"]) and matched["story_match"] != matched["id"]
    assert DEFAULT_THRESHOLD <= matched["story_similarity"] < 1.0
    story = next(day1.db.query("SELECT * FROM stories WHERE id = ?", [original["story_id"]]))
    assert (story["original_id"], story["members"]) == (original["id"], 2)  # published first: the original


def test_different_stories_on_one_subject_are_all_kept(day1):
    articles = _articles(day1)
    assert set(articles) == {CLEAN, "/news/gulf-finance-center.html", "/news/gulf-network-finance.html",
                             "/news/witness-protection-law.html", "/news/rabat-schools-seminar.html"}
    assert len({row["story_id"] for row in articles.values()}) == 4
    row = day1.last_crawl()
    assert (row["status"], row["stored"], row["duplicate"]) == ("finished", 5, len(_duplicates(day1)))
    assert {row["kind"] for row in _duplicates(day1).values()} <= {"url", "exact"}


def test_nothing_vanishes(day1, site):
    """Every article page the site links is an article or a duplicates row."""
    recorded = set(_articles(day1)) | set(_duplicates(day1))
    linked = {CLEAN, AMP, "/news/gulf-finance-center.html", "/news/gulf-network-finance.html",
              "/news/witness-protection-law.html", "/news/rabat-schools-seminar.html"}
    assert linked <= recorded


def test_wire_clusters_in_one_query(day1):
    clusters = {_path(row["url"]): row for row in day1.db.query(CLUSTERS_SQL)}
    assert list(clusters) == ["/news/gulf-finance-center.html"]
    assert (clusters["/news/gulf-finance-center.html"]["members"], clusters["/news/gulf-finance-center.html"]["sources"]) == (2, 1)


def test_second_crawl_catches_copies_of_first_run_articles(day1, day2):
    before, after = _articles(day1), _articles(day2)
    assert set(after) - set(before) == {"/news/joint-hijack-drill.html", "/news/gulf-center-review.html"}
    unchanged = ("id", "url", "title", "text", "published", "content_hash", "story_id", "story_match", "story_similarity")
    assert {p: [r[k] for k in unchanged] for p, r in after.items() if p in before} == \
        {p: [r[k] for k in unchanged] for p, r in before.items()}, "day 1's rows are as they were"
    review = after["/news/gulf-center-review.html"]
    wire = before["/news/gulf-finance-center.html"]
    assert review["story_id"] == wire["story_id"] and review["story_match"] in (wire["id"], before["/news/gulf-network-finance.html"]["id"])
    assert DEFAULT_THRESHOLD <= review["story_similarity"] < 1.0
    duplicates = _duplicates(day2)
    assert "/news/gulf-center-review.html" not in duplicates
    respelled = duplicates["/news/witness-law-debate.html"]
    assert respelled["duplicate_of"] == before["/news/witness-protection-law.html"]["id"]
    assert (respelled["kind"], respelled["similarity"]) == ("exact", 1.0)
    row = day2.last_crawl()
    assert (row["status"], row["stored"], row["duplicate"], row["already_archived"]) == ("finished", 2, 1, 0)
    assert row["skipped_archived"] >= 5, "day-1 article pages are not downloaded again"


def test_near_index_is_carried_in_the_archive(day1, day2):
    db = day2.db
    assert db["near_duplicate_signatures"].count == db["articles"].count == 7
    ids = {row["article_id"] for row in db.query("SELECT article_id FROM near_duplicate_signatures")}
    assert ids == {row["id"] for row in db.query("SELECT id FROM articles")}


# -- the decisions behind the crawl, in both download orders ---------------------

STORY = "\n".join(
    f"الفقرة رقم {i} من الخبر الأصلي عن اجتماع وزراء الداخلية العرب في عمان لتبادل المعلومات الأمنية "
    f"بين الأجهزة المختصة وملاحقة شبكات التمويل عبر الحدود في الجولة {i}." for i in range(8)
)
OTHER = "\n".join(
    f"ناقش البرلمان في جلسته رقم {i} مشروع قانون حماية الشهود والمبلغين في قضايا الإرهاب "
    f"وسط خلافات على الجهة التي تدير برنامج الحماية في المرحلة {i}." for i in range(8)
)


def decided(pipeline, *items) -> dict[int, tuple]:
    """Write the items' articles as a crawl's storage does, end the run (its stories decided), and return
    each article's (story_id, story_match, story_similarity) by id."""
    from pipelines.archive.database import insert_rows
    from pipelines.similarity.stories import resolve_stories

    insert_rows(pipeline.db, [dict(item.record) for item in items if not item.duplicate], [], [])
    pipeline.near.flush()
    resolve_stories(pipeline.db)
    return {row[0]: tuple(row[1:]) for row in pipeline.db.execute(
        "SELECT id, story_id, story_match, story_similarity FROM articles")}


def _item(url: str, text: str, canonical: str | None = None, published: str | None = "2025-04-08") -> PageItem:
    record = {"url": url, "canonical_url": canonical or url, "source": "t", "title": "عنوان", "text": text,
              "published": published, "fetched_at": "2025-04-09T10:00:00+00:00", "content_hash": content_hash(text)}
    return PageItem(url=url, source="t", body=b"", record=record)


@pytest.fixture
def dedup(tmp_path):
    crawler = get_crawler(settings_dict={"ARSHIF_DB": str(tmp_path / "archive.db")})
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.open_spider()
    yield pipeline
    pipeline.close_spider()


@pytest.mark.parametrize("amp_first", [True, False])
def test_the_page_at_its_own_address_is_kept_in_either_order(dedup, amp_first):
    clean = _item("http://x.test/a.html", STORY)
    amp = _item("http://x.test/amp/a.html", STORY, canonical="http://x.test/a.html")
    first, second = (amp, clean) if amp_first else (clean, amp)
    dedup.process_item(first)
    dedup.process_item(second)
    assert clean.duplicate is None and clean.record["id"] == 1
    if amp_first:
        assert clean.replaces["kind"] == "url" and amp.record["id"] == 1  # took the AMP copy's place
    else:
        assert amp.duplicate == {"of": 1, "kind": "url", "similarity": 1.0}


@pytest.mark.parametrize("tracking_first", [True, False])
def test_the_clean_url_is_kept_in_either_order(dedup, tracking_first):
    clean = _item("http://x.test/a.html", STORY)
    tracking = _item("http://x.test/a.html?utm_source=t", STORY, canonical="http://x.test/a.html")
    first, second = (tracking, clean) if tracking_first else (clean, tracking)
    dedup.process_item(first)
    dedup.process_item(second)
    assert clean.duplicate is None and clean.record["id"] == 1
    if tracking_first:
        assert clean.replaces["kind"] == "url" and tracking.record["id"] == 1  # took the tracking URL's place
    else:
        assert tracking.duplicate == {"of": 1, "kind": "url", "similarity": 1.0}


@pytest.mark.parametrize("copy_first", [True, False])
def test_a_near_copy_is_stored_in_the_same_story_in_either_order(dedup, copy_first):
    """Nothing displaces anything: both texts keep their own ids, the later one joins the earlier one's story."""
    original = _item("http://x.test/original.html", STORY, published="2025-04-06")
    copy = _item("http://y.test/copy.html", STORY.replace("الجولة 7", "الجولة الأخيرة") + "\nفقرة مضافة في النسخة المعاد نشرها.",
                 published="2025-04-07")
    first, second = (copy, original) if copy_first else (original, copy)
    dedup.process_item(first)
    dedup.process_item(second)
    assert original.duplicate is copy.duplicate is None and original.replaces is copy.replaces is None
    assert (first.record["id"], second.record["id"]) == (1, 2)
    assert first.record["story_id"] == 1 and second.record["story_id"] == 2  # each its own until the run ends
    stories = decided(dedup, first, second)
    assert stories[1][:2] == (1, None) and stories[2][:2] == (1, 1)  # then one story: the later page matched the earlier
    assert DEFAULT_THRESHOLD <= stories[2][2] < 1.0


@pytest.mark.parametrize("copy_first", [True, False])
def test_the_earlier_publication_of_an_exact_copy_is_kept_in_either_order(dedup, copy_first):
    original = _item("http://y.test/original.html", STORY, published="2025-04-06")
    copy = _item("http://x.test/copy.html", STORY.replace("الإرهاب", "الارهاب"), published="2025-04-07")
    first, second = (copy, original) if copy_first else (original, copy)
    dedup.process_item(first)
    dedup.process_item(second)
    assert original.duplicate is None and original.record["id"] == 1
    if copy_first:
        assert original.replaces == {"kind": "exact", "similarity": 1.0}  # took the copy's id: the same text
    else:
        assert copy.duplicate == {"of": 1, "kind": "exact", "similarity": 1.0}


def test_a_new_run_checks_the_archive(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    db["articles"].insert({"id": 1, "url": "http://x.test/a.html", "canonical_url": "http://x.test/a.html",
                           "text": STORY, "content_hash": content_hash(STORY)})
    db.close()
    crawler = get_crawler(settings_dict={"ARSHIF_DB": str(tmp_path / "archive.db")})
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.open_spider()
    with pytest.raises(DropItem, match="already_archived"):
        pipeline.process_item(_item("http://x.test/a.html", STORY))
    alias = pipeline.process_item(_item("http://x.test/a.html?fbclid=1", STORY, canonical="http://x.test/a.html"))
    assert alias.duplicate == {"of": 1, "kind": "url", "similarity": 1.0}  # a new link: fetched once, recorded
    with pytest.raises(DropItem, match="already_archived"):
        pipeline.process_item(_item("http://x.test/a.html?fbclid=1", STORY))
    near = pipeline.process_item(_item("http://y.test/b.html", STORY + "\nسطر إضافي في آخر الخبر المعاد نشره."))
    assert near.duplicate is None and near.record["id"] == 2
    other = pipeline.process_item(_item("http://y.test/c.html", OTHER))
    assert other.duplicate is None and (other.record["id"], other.record["story_id"]) == (3, 3)
    assert crawler.stats.get_value("arshif/already_archived") == 2
    stories = decided(pipeline, near, other)
    assert stories[2][:2] == (1, 1) and stories[2][2] < 1.0 and stories[3][:2] == (3, None)
    pipeline.close_spider()


def test_a_url_fold_source_finds_folded_aliases_of_earlier_runs_in_the_archive(tmp_path):
    """A source with url_fold = www, mobile, amp: the archived www. article and a duplicates row's AMP canonical URL
    are found by an indexed look-up (url_fold_keys), so their other variants are `url` duplicates of them, and a URL
    that only looks alike stays an article."""
    db = open_archive(tmp_path / "archive.db")
    db["articles"].insert({"id": 1, "url": "http://www.x.test/a.html", "canonical_url": "http://www.x.test/a.html",
                           "text": STORY, "content_hash": content_hash(STORY)})
    db["articles"].insert({"id": 2, "url": "http://x.test/b.html", "canonical_url": "http://x.test/b.html",
                           "text": OTHER, "content_hash": content_hash(OTHER)})
    db["duplicates"].insert({"url": "http://x.test/b.html?ref=1", "canonical_url": "http://amp.x.test/c.html",
                             "duplicate_of": 2, "kind": "url"})
    db.close()
    crawler = get_crawler(settings_dict={"ARSHIF_DB": str(tmp_path / "archive.db")})
    crawler.spider = SimpleNamespace(source=SimpleNamespace(url_fold=("www", "mobile", "amp")))
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.open_spider()
    try:
        amp = pipeline.process_item(_item("http://m.x.test/amp/a.html", STORY))
        assert amp.duplicate == {"of": 1, "kind": "url", "similarity": 1.0}  # the www. article, by its folded key
        # the same alias key with a text that is not article 2's: a distinct text, stored
        distinct = pipeline.process_item(_item("http://amp.x.test/c.html", STORY + "\nسطر مختلف.\nآخر."))
        assert distinct.duplicate is None and distinct.record["id"] == 3
        via_duplicate = pipeline.process_item(_item("http://www.x.test/c.amp.html", OTHER))
        assert via_duplicate.duplicate == {"of": 2, "kind": "url", "similarity": 1.0}  # the AMP canonical of a duplicate
        # an alias of article 1 with a near copy of its text: stored (it joins the story when the run ends)
        near = pipeline.process_item(_item("http://amp.x.test/a.html", STORY + "\nسطر مختلف."))
        assert near.duplicate is None and near.record["id"] == 4
        lookalike = pipeline.process_item(_item("http://x.test/amp-a.html", OTHER + "\nسطر جديد تماما في نهاية الخبر."))
        assert lookalike.duplicate is None and lookalike.record["id"] == 5
    finally:
        pipeline.close_spider()


def test_threshold_zero_turns_near_duplicates_off(tmp_path):
    crawler = get_crawler(settings_dict={"ARSHIF_DB": str(tmp_path / "archive.db"), "ARSHIF_NEAR_DUPLICATE_THRESHOLD": 0})
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.open_spider()
    pipeline.process_item(_item("http://x.test/a.html", STORY))
    copy = pipeline.process_item(_item("http://y.test/b.html", STORY + "\nسطر إضافي."))
    assert copy.duplicate is None and (copy.record["id"], copy.record["story_id"]) == (2, 2)
    pipeline.close_spider()
