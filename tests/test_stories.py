"""Story clusters on a real crawl: no distinct text is lost, copies are grouped, and the download order does not matter.

The real engine crawls a generated site (tests/story_site.py: 160 stories, 217
article pages, more than four ARSHIF_BATCH_SIZE batches; one crawl writes the
near-duplicate index in batches of 7) in which unrelated
templated reports share 43-60% of their paragraphs, alongside near copies,
exact copies and AMP aliases. It is crawled three times into fresh archives: in
the spider's own order and in two shuffled orders (tests/shuffled_order.py).
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from sqlite_utils import Database

from crawler.demo.server import SiteServer
from pipelines.similarity.near_duplicates import DEFAULT_THRESHOLD
from pipelines.text.search_text import fts_query
from tests.conftest import archive_snapshot, copy_archive, crawl
from tests.story_site import build

STORIES = 160
SHUFFLED = ("-s", "SPIDER_MIDDLEWARES=" + json.dumps({"tests.shuffled_order.ShuffledOrder": 950}))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("story-site")
    plan = build(root, STORIES)
    with SiteServer(root) as server:
        server.root, server.plan = root, plan
        yield server


def _crawl(site, tmp_path_factory, name: str | None, *extra: str, db_path=None):
    db_path = db_path or tmp_path_factory.mktemp(name) / "archive.db"
    run = crawl(str(site.root / "source.toml"), db_path, site.origin, "-s", "ARSHIF_BATCH_SIZE=50", *extra)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def plain(site, tmp_path_factory):
    return _crawl(site, tmp_path_factory, "plain")


@pytest.fixture(scope="module")
def shuffled(site, tmp_path_factory):
    """Two shuffled crawls; the second writes the near-duplicate index in batches of 7 articles (about 30
    batches in the run, where the default writes one), so the stories cannot depend on when it is written."""
    return [_crawl(site, tmp_path_factory, f"shuffled{seed}", *SHUFFLED, "-s", f"ARSHIF_TEST_SHUFFLE_SEED={seed}", *extra)
            for seed, extra in ((1, ()), (2, ("-s", "ARSHIF_NEAR_INDEX_BATCH=7")))]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_every_distinct_text_is_one_article(site, plain):
    """Exact copies and URL aliases are duplicates rows; every other page, near copies included, is an article."""
    db = plain.db
    articles = {_path(url): text_id for url, text_id in db.execute("SELECT url, id FROM articles")}
    texts = defaultdict(list)
    for page in site.plan.pages:
        texts[page.text].append(page)
    assert db["articles"].count == len(texts) == len(articles)
    for group in texts.values():
        candidates = [page for page in group if page.kind != "amp"]
        expected = min(candidates, key=lambda page: page.published)  # the earliest publication is the article
        assert expected.path in articles, f"{expected.path} ({expected.kind}) lost"
        assert not {page.path for page in group if page is not expected} & set(articles)
    kinds = {_path(url): kind for url, kind in db.execute("SELECT url, kind FROM duplicates")}
    for page in site.plan.pages:
        if page.path not in articles:
            assert kinds[page.path] == ("url" if page.kind == "amp" else "exact"), page.path
    assert set(kinds.values()) <= {"url", "exact"}
    row = plain.last_crawl()
    assert (row["stored"], row["duplicate"]) == (len(texts), db["duplicates"].count)


def test_stories_are_the_copy_groups(site, plain):
    db = plain.db
    truth = {page.path: page.story for page in site.plan.pages}
    rows = list(db.query("SELECT id, url, story_id, story_match, story_similarity FROM articles"))
    by_id = {row["id"]: row for row in rows}
    found = defaultdict(set)
    expected = defaultdict(set)
    for row in rows:
        found[row["story_id"]].add(_path(row["url"]))
        expected[truth[_path(row["url"])]].add(_path(row["url"]))
    assert set(map(frozenset, found.values())) == set(map(frozenset, expected.values()))
    assert sum(len(members) > 1 for members in found.values()) == sum(p.kind == "near" for p in site.plan.pages)
    for row in rows:
        if row["story_match"] is None:
            assert row["story_similarity"] is None
        else:
            assert by_id[row["story_match"]]["story_id"] == row["story_id"]
            assert DEFAULT_THRESHOLD <= row["story_similarity"] < 1.0
    published = dict(db.execute("SELECT id, published FROM articles").fetchall())
    for story in db.query("SELECT * FROM stories"):
        ids = [row["id"] for row in rows if row["story_id"] == story["id"]]
        assert story["members"] == len(ids) and story["id"] == min(ids)
        assert story["original_id"] == min(ids, key=lambda i: published[i])  # the earliest publication


def test_the_minhash_estimate_alone_would_have_merged_unrelated_reports(plain):
    """The site holds pairs that share many paragraphs: LSH proposes them and the estimate passes them;
    exact Jaccard refuses each one, so none of those reports lost its own story."""
    stats = plain.last_crawl()["stats"]
    assert stats["arshif/near_estimate_only"] > 0
    assert stats["arshif/near_candidates"] >= stats["arshif/near_estimate_only"] + stats["arshif/story_joined"]


def test_shuffled_crawls_give_the_same_archive(plain, shuffled):
    expected = archive_snapshot(plain.db)
    order = [url for (url,) in plain.db.execute("SELECT url FROM articles ORDER BY id")]
    for run in shuffled:
        assert [url for (url,) in run.db.execute("SELECT url FROM articles ORDER BY id")] != order, \
            "the shuffled crawl downloaded in the same order"
        got = archive_snapshot(run.db)
        for key in expected:
            assert got[key] == expected[key], key


def test_a_second_run_adds_nothing_and_changes_nothing(site, plain, tmp_path_factory):
    """Run again over a copy: every article page is skipped or already archived; no row changes."""
    db_path = copy_archive(plain.db_path, tmp_path_factory.mktemp("again") / "archive.db")
    before = archive_snapshot(Database(db_path))
    run = crawl(str(site.root / "source.toml"), db_path, site.origin, "-s", "ARSHIF_BATCH_SIZE=50", "--refresh")
    assert run.returncode == 0, run.stderr[-3000:]
    assert archive_snapshot(run.db) == before
    assert run.last_crawl()["stored"] == 0


def test_a_first_crawl_killed_before_its_index_batch_then_rerun_equals_a_clean_crawl(site, plain, tmp_path, monkeypatch):
    """kill -9 after two storage batches of the first crawl into a new archive: their articles written, none of
    their near-duplicate index rows (written every ARSHIF_NEAR_INDEX_BATCH). The rerun indexes them, proposes
    their pairs and fetches the rest: the same texts, URLs and stories as a clean crawl (it once left the
    killed run's near copies stories of their own for good)."""
    db_path = tmp_path / "archive.db"
    monkeypatch.setenv("ARSHIF_TEST_EXIT_AFTER_BATCHES", "2")
    killed = crawl(str(site.root / "source.toml"), db_path, site.origin, "-s", "ARSHIF_BATCH_SIZE=50")
    assert killed.returncode == 137, killed.stderr[-3000:]
    assert 0 < killed.db["articles"].count < len(site.plan.pages)
    assert killed.db.execute("SELECT COUNT(*) FROM near_duplicate_signatures").fetchone() == (0,)
    monkeypatch.delenv("ARSHIF_TEST_EXIT_AFTER_BATCHES")
    rerun = _crawl(site, tmp_path_factory=None, name=None, db_path=db_path)
    assert _by_text(rerun.db) == _by_text(plain.db)


def _by_text(db) -> dict:
    """What a crawl archives whichever URL of an exact copy it met first (an earlier run's article is never
    displaced, so a killed run's choice stays): the texts, every URL kept, and the stories as sets of texts."""
    stories: dict[int, set] = {}
    for story, digest in db.execute("SELECT story_id, content_hash FROM articles"):
        stories.setdefault(story, set()).add(digest)
    return {"texts": {row[0] for row in db.execute("SELECT content_hash FROM articles")},
            "urls": {row[0] for row in db.execute("SELECT url FROM articles UNION SELECT url FROM duplicates")},
            "stories": {frozenset(texts) for texts in stories.values()}}


def test_export_one_per_story_writes_each_story_original(site, plain, tmp_path):
    from tests.conftest import run_arshif

    outputs = {}
    for flag in ((), ("--one-per-story",)):
        target = tmp_path / f"export{len(flag)}.jsonl"
        result = run_arshif("export", "--db", str(plain.db_path), "--format", "jsonl", "--output", str(target), *flag)
        assert result.returncode == 0, result.stderr
        outputs[flag] = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    db = plain.db
    assert len(outputs[()]) == db["articles"].count
    originals = {row["url"] for row in db.query("SELECT a.url FROM stories s JOIN articles a ON a.id = s.original_id")}
    one = outputs[("--one-per-story",)]
    assert {row["url"] for row in one} == originals and len(one) == len(originals) == len(db.execute("SELECT DISTINCT story_id FROM articles").fetchall())
    near_copies = {page.path for page in site.plan.pages if page.kind == "near"}
    assert near_copies and not near_copies & {_path(row["url"]) for row in one}  # published later than their story


async def test_an_edited_article_keeps_its_earlier_text_as_a_version(tmp_path):
    """--refresh over a site where one article changed: the article shows the new text, `versions` keeps the old
    one with its WARC record; unchanged pages add nothing, and a further run over the same site adds nothing."""
    root = tmp_path / "site"
    plan = build(root, 12)
    edited = next(page for page in plan.pages if page.kind == "story")
    db_path = tmp_path / "archive.db"
    with SiteServer(root) as server:
        first = crawl(str(root / "source.toml"), db_path, server.origin)
        assert first.returncode == 0, first.stderr[-3000:]
        before = {row["url"]: row for row in first.db.query("SELECT * FROM articles")}
        url = server.origin + edited.path
        page = (root / edited.path.lstrip("/")).read_text(encoding="utf-8")
        new_paragraph = "وأضافت الصحيفة في تحديث لاحق أن الاجتماع تأجل إلى الأسبوع المقبل بطلب من الوفود المشاركة."
        (root / edited.path.lstrip("/")).write_text(page.replace("</article>", f"<p>{new_paragraph}</p>\n</article>"),
                                                     encoding="utf-8")
        for _ in range(2):  # the second run sees no change
            run = crawl(str(root / "source.toml"), db_path, server.origin, "--refresh")
            assert run.returncode == 0, run.stderr[-3000:]
    db = run.db
    after = {row["url"]: row for row in db.query("SELECT * FROM articles")}
    assert set(after) == set(before)
    assert after[url]["id"] == before[url]["id"] and after[url]["story_id"] == before[url]["story_id"]
    assert after[url]["text"] == before[url]["text"] + "\n" + new_paragraph
    assert after[url]["content_hash"] != before[url]["content_hash"]
    versions = list(db.query("SELECT * FROM versions"))
    assert len(versions) == 1
    old = versions[0]
    assert old["article_id"] == before[url]["id"]
    assert [old[c] for c in ("text", "title", "content_hash", "fetched_at", "warc_file", "warc_offset")] == \
        [before[url][c] for c in ("text", "title", "content_hash", "fetched_at", "warc_file", "warc_offset")]
    assert after[url]["warc_offset"] != old["warc_offset"] or after[url]["warc_file"] != old["warc_file"]
    assert {u: r["text"] for u, r in after.items() if u != url} == {u: r["text"] for u, r in before.items() if u != url}
    hits = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", [fts_query("تأجل")]).fetchall()
    assert hits == [(after[url]["id"],)]
    stats = [json.loads(row[0]) for row in db.execute("SELECT stats FROM crawls ORDER BY id")]
    assert [s.get("arshif/edited", 0) for s in stats] == [0, 1, 0]
    from tests.conftest import make_datasette

    page = (await make_datasette(db_path).client.get(f"/-/article/{old['article_id']}")).text
    assert 'class="arshif-versions"' in page and old["fetched_at"] in page.split('class="arshif-versions"', 1)[1]
    changed = page.split('class="arshif-version-changes"', 1)[1].split("</tr>", 1)[0]  # what the edit did: one paragraph added
    assert f'<p class="arshif-added"><ins>{new_paragraph}</ins></p>' in changed
    assert "arshif-removed" not in changed and "arshif-title-change" not in changed


async def test_reading_view_lists_the_story_members(site, plain):
    from tests.conftest import make_datasette

    db = plain.db
    near = next(page for page in site.plan.pages if page.kind == "near")
    copy = next(db.query("SELECT * FROM articles WHERE url LIKE ?", ["%" + near.path]))
    members = list(db.query("SELECT * FROM articles WHERE story_id = ? ORDER BY published", [copy["story_id"]]))
    assert len(members) == 2
    page = (await make_datasette(plain.db_path).client.get(f"/-/article/{copy['id']}")).text
    section = page.split('<section class="arshif-story"', 1)[1].split("</section>", 1)[0]
    for member in members:
        assert f'href="/-/article/{member["id"]}"' in section
    assert section.count("(original)") == 1 and section.index(f'/-/article/{members[0]["id"]}"') < section.index("(original)")
    similarities = [member["story_similarity"] for member in members if member["story_similarity"] is not None]
    assert len(similarities) == 1 and str(similarities[0]) in section  # the member stored second matched the first
    alone = next(db.query("SELECT id FROM articles WHERE story_id IN (SELECT id FROM stories WHERE members = 1) LIMIT 1"))
    assert 'class="arshif-story"' not in (await make_datasette(plain.db_path).client.get(f"/-/article/{alone['id']}")).text


def test_an_archive_from_before_stories_is_migrated_in_place(tmp_path):
    """m007/m008 on an archive written before them: ids kept, every article a story of its own, `near` rows still
    there; its near-duplicate index (no shingle hashes) is rebuilt from the texts, so new copies join by exact Jaccard."""
    from scrapy.utils.test import get_crawler

    from crawler.items import PageItem
    from pipelines.archive import database
    from pipelines.dedup import DedupPipeline
    from pipelines.similarity import near_duplicates as nd
    from pipelines.similarity.fingerprints import content_hash
    from pipelines.text.search_text import register_functions
    from tests.story_site import plan

    texts = ["\n".join(page.paragraphs) for page in plan(8).pages if page.kind == "story"][:3]
    path = tmp_path / "old.db"
    old = Database(path)
    register_functions(old.conn, {})
    database.migrations.apply(old, stop_before="m007_stories")
    nd.migrations.apply(old, stop_before="m002_shingle_hashes")
    rows = [{"id": i, "url": f"http://x.test/{i}", "canonical_url": f"http://x.test/{i}", "source": "x", "title": "ع",
             "published": f"2025-05-0{i}", "text": text, "content_hash": content_hash(text)} for i, text in zip((3, 7, 9), texts)]
    old["articles"].insert_all(rows)
    old["duplicates"].insert({"url": "http://y.test/copy", "source": "y", "duplicate_of": 7, "similarity": 0.71, "kind": "near"})
    old["near_duplicate_params"].insert_all([{"name": k, "value": str(v)} for k, v in nd.PARAMS.items() if k != "verify"])
    old["near_duplicate_signatures"].insert_all(
        [{"article_id": row["id"], "signature": nd.signature(row["text"]).to_bytes(), "shingles": 1} for row in rows])
    old.conn.commit()
    old.close()

    db = database.open_archive(path)
    assert [tuple(r) for r in db.execute("SELECT id, story_id, story_match FROM articles ORDER BY id")] == \
        [(3, 3, None), (7, 7, None), (9, 9, None)]
    assert [tuple(r) for r in db.execute("SELECT url, duplicate_of, kind FROM duplicates")] == [("http://y.test/copy", 7, "near")]
    assert [tuple(r) for r in db.execute("SELECT id, original_id, members FROM stories ORDER BY id")] == \
        [(3, 3, 1), (7, 7, 1), (9, 9, 1)]
    assert db["versions"].count == 0
    db.close()
    crawler = get_crawler(settings_dict={"ARSHIF_DB": str(path)})
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.open_spider()
    assert pipeline.db.execute("SELECT COUNT(*) FROM near_duplicate_signatures WHERE shingle_hashes IS NOT NULL").fetchone() == (3,)
    copy = texts[1] + "\nوفي سياق متصل أفادت مصادر مطلعة بأن اجتماعا جديدا سيعقد الأسبوع المقبل لمتابعة التنفيذ."
    record = {"url": "http://z.test/c", "canonical_url": "http://z.test/c", "source": "z", "title": "ع", "text": copy,
              "published": "2025-06-01", "fetched_at": "2025-06-01T00:00:00+00:00", "content_hash": content_hash(copy)}
    item = pipeline.process_item(PageItem(url=record["url"], source="z", body=b"", record=record))
    from tests.test_dedup_crawl import decided

    stories = decided(pipeline, item)
    pipeline.close_spider()
    assert item.duplicate is None and record["id"] == 10 and stories[10][:2] == (7, 7)


def test_an_indexed_id_without_its_article_is_no_match(tmp_path):
    """A run killed after the index wrote a signature but before its article was committed leaves an orphan
    signature: a copy of that text is stored as a story of its own, not linked to an article that does not exist."""
    from scrapy.utils.test import get_crawler

    from crawler.items import PageItem
    from pipelines.archive.database import open_archive
    from pipelines.dedup import DedupPipeline
    from pipelines.similarity.fingerprints import content_hash
    from pipelines.similarity.near_duplicates import open_index, signature
    from tests.story_site import plan

    text = "\n".join(next(page for page in plan(4).pages if page.kind == "story").paragraphs)
    db = open_archive(tmp_path / "archive.db")
    index = open_index(db)
    index.add(5, signature(text))  # no article 5
    index.close()
    db.close()
    pipeline = DedupPipeline.from_crawler(get_crawler(settings_dict={"ARSHIF_DB": str(tmp_path / "archive.db")}))
    pipeline.open_spider()
    record = {"url": "http://x.test/a", "canonical_url": "http://x.test/a", "source": "x", "title": "ع", "text": text,
              "published": None, "fetched_at": "2025-06-01T00:00:00+00:00", "content_hash": content_hash(text)}
    pipeline.process_item(PageItem(url=record["url"], source="x", body=b"", record=record))
    pipeline.close_spider()
    assert (record["id"], record["story_id"], record["story_match"]) == (1, 1, None)


def test_a_displacing_copy_is_committed_with_its_outcome(tmp_path):
    """take_place flushes the batch to read the displaced row back: that write must not carry the newcomer's
    `pages` outcome, or a kill before the next batch leaves a URL marked done whose row was never written."""
    from types import SimpleNamespace

    from scrapy.utils.test import get_crawler

    from crawler.items import PageItem
    from pipelines.storage import StoragePipeline

    crawler = get_crawler(settings_dict={"ARSHIF_DB": str(tmp_path / "archive.db"), "ARSHIF_BATCH_SIZE": 2})
    crawler.spider = SimpleNamespace(name="t", source_name="t")
    storage = StoragePipeline.from_crawler(crawler)
    storage.open_spider()
    alias = {"id": 1, "url": "http://x.test/a?utm_source=t", "canonical_url": "http://x.test/a", "source": "t",
             "title": "ع", "text": "نص", "content_hash": "h", "fetched_at": "2025-06-01T00:00:00+00:00"}
    storage.process_item(PageItem(url=alias["url"], source="t", body=b"", record=alias))
    storage.flush()  # a batch boundary: the alias is archived
    page = {**alias, "url": "http://x.test/a"}
    storage.process_item(PageItem(url=page["url"], source="t", body=b"", record=page, replaces={"kind": "url", "similarity": 1.0}))
    # killed here: what is committed must be consistent
    committed = Database(tmp_path / "archive.db")
    outcome = committed.execute("SELECT outcome FROM pages WHERE url = ?", [page["url"]]).fetchone()
    in_archive = committed.execute("SELECT COUNT(*) FROM articles WHERE url = ?", [page["url"]]).fetchone()[0]
    assert outcome is None or in_archive == 1
    storage.flush(final=True)
    assert committed.execute("SELECT url FROM articles WHERE id = 1").fetchone() == ("http://x.test/a",)
    assert committed.execute("SELECT url, kind FROM duplicates").fetchall() == [("http://x.test/a?utm_source=t", "url")]
    assert committed.execute("SELECT outcome FROM pages WHERE url = ?", [page["url"]]).fetchone() == ("duplicate",)
    storage.db.close()


def test_the_original_is_the_earliest_member_in_utc_not_by_its_text(tmp_path):
    """`published` keeps each page's UTC offset: 23:00-05:00 (04:00 UTC the next day) is later than 01:00+03:00
    of that next day (22:00 UTC the day before), though it sorts first as text. Both the stories view and the
    choice among exact copies (pipelines.dedup's rank) compare in UTC."""
    from pipelines.archive.database import open_archive
    from pipelines.text.dates import utc_sort_key

    db = open_archive(tmp_path / "archive.db")
    db["articles"].insert_all([
        {"id": 1, "url": "http://a.test/1", "text": "x", "published": "2025-05-01T23:00:00-05:00", "story_id": 1},
        {"id": 2, "url": "http://b.test/2", "text": "y", "published": "2025-05-02T01:00:00+03:00", "story_id": 1},
        {"id": 3, "url": "http://c.test/3", "text": "z", "published": "2025-05-03", "story_id": 3},
        {"id": 4, "url": "http://c.test/4", "text": "w", "published": "not a date", "story_id": 3},
    ])
    assert dict(db.execute("SELECT id, original_id FROM stories").fetchall()) == {1: 2, 3: 3}
    assert sorted(["2025-05-01T23:00:00-05:00", "2025-05-02T01:00:00+03:00"], key=utc_sort_key)[0].endswith("+03:00")
