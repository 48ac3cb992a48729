"""The reading view `/-/article/<id>`: an article as a page, always escaped."""

from __future__ import annotations

import html
import re
import sqlite3

import yaml

from crawler.cli.common import DATASETTE_DIR
from pipelines.archive.database import insert_rows, next_article_id, open_archive
from tests.conftest import make_datasette

HOSTILE = {
    "title": 'عنوان <img src=x onerror="alert(1)"> خبيث',
    "author": "<b>كاتب</b>",
    "url": "javascript:alert(1)",
    "text": "سطر أول فيه <iframe src=//evil></iframe>\n\n  \nسطر ثانٍ & «اقتباس»\nسطر ثالث",
}






def _id_of(db_path, path: str) -> int:
    with sqlite3.connect(db_path) as connection:
        return connection.execute("select id from articles where url like ?", ["%" + path]).fetchone()[0]


def _body_paragraphs(page: str) -> list[str]:
    body = page.split('<div class="arshif-body">', 1)[1].split("</div>", 1)[0]
    return [html.unescape(p) for p in re.findall(r'<p dir="rtl">(.*?)</p>', body, re.S)]


async def test_article_page_shows_headline_metadata_links_and_rtl_paragraphs(archive_db):
    article_id = _id_of(archive_db, "/articles/1001.html")
    with sqlite3.connect(archive_db) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute("select * from articles where id = ?", [article_id]).fetchone()
    response = await make_datasette(archive_db).client.get(f"/-/article/{article_id}")
    assert response.status_code == 200
    page = response.text
    assert f'<h1 class="arshif-headline" dir="rtl">{html.escape(row["title"], quote=False)}</h1>' in page
    assert f'<time datetime="{row["published"]}"' in page
    assert row["author"] in page and "سارة الجبوري" in page
    assert f'<a href="{row["url"]}" dir="ltr" rel="noopener noreferrer nofollow">' in page
    assert f"/-/archived/{article_id}" in page
    assert f'href="/archive/articles?source={row["source"]}"' in page
    expected = [line.strip() for line in row["text"].splitlines() if line.strip()]
    assert len(expected) >= 3
    assert _body_paragraphs(page) == expected
    assert '<article class="arshif-reading" dir="rtl" lang="ar"' in page
    assert "/arshif-static/arshif.css" in page


async def test_script_in_the_demo_article_is_text(archive_db):
    article_id = _id_of(archive_db, "/articles/1007.html")
    page = (await make_datasette(archive_db).client.get(f"/-/article/{article_id}")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert any("<script>alert(1)</script>" in p for p in _body_paragraphs(page))


async def test_hostile_values_are_escaped_and_not_linked(archive_db):
    db = open_archive(archive_db)
    article_id = next_article_id(db)
    insert_rows(db, [{"id": article_id, "source": "evil<>", "language": "ar", **HOSTILE}], [])
    db.close()
    page = (await make_datasette(archive_db).client.get(f"/-/article/{article_id}")).text
    assert "<img" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "<b>كاتب</b>" not in page and "&lt;b&gt;كاتب&lt;/b&gt;" in page
    assert "<iframe" not in page
    assert 'href="javascript:' not in page
    assert '<span dir="ltr">javascript:alert(1)</span>' in page
    assert _body_paragraphs(page) == ["سطر أول فيه <iframe src=//evil></iframe>", "سطر ثانٍ & «اقتباس»", "سطر ثالث"]
    assert "بلا تاريخ" in page  # no published date


async def test_duplicates_are_listed_on_the_original(archive_db):
    original = _id_of(archive_db, "/articles/1004.html")
    page = (await make_datasette(archive_db).client.get(f"/-/article/{original}")).text
    section = page.split('<section class="arshif-duplicates"', 1)[1]
    assert "(1)</h2>" in section
    assert section.count('<tr class="arshif-duplicate">') == 1
    assert "/articles/1010.html" in section and "exact" in section
    other = _id_of(archive_db, "/articles/1005.html")
    page = (await make_datasette(archive_db).client.get(f"/-/article/{other}")).text
    assert "(0)</h2>" in page and 'class="arshif-duplicate"' not in page


async def test_warc_file_is_mentioned_when_the_column_exists(archive_db):
    with_warc = _id_of(archive_db, "/articles/1003.html")
    without = _id_of(archive_db, "/articles/1005.html")
    with sqlite3.connect(archive_db) as connection:
        columns = {row[1] for row in connection.execute("pragma table_info(articles)")}
        if "warc_file" not in columns:  # an archive from before the WARC migration
            connection.execute("alter table articles add column warc_file text")
        connection.execute("update articles set warc_file = 'crawl-00001.warc.gz' where id = ?", [with_warc])
        connection.execute("update articles set warc_file = null where id = ?", [without])
    ds = make_datasette(archive_db)
    page = (await ds.client.get(f"/-/article/{with_warc}")).text
    assert 'WARC: <code dir="ltr">crawl-00001.warc.gz</code>' in page
    page = (await ds.client.get(f"/-/article/{without}")).text
    assert "WARC:" not in page and "no WARC record stored" in page


async def test_missing_article_is_404(archive_db):
    ds = make_datasette(archive_db)
    assert (await ds.client.get("/-/article/999999")).status_code == 404
    assert (await ds.client.get("/-/article/abc")).status_code == 404


async def test_reading_view_respects_table_permissions(archive_db):
    metadata = yaml.safe_load((DATASETTE_DIR / "metadata.yaml").read_text(encoding="utf-8"))
    metadata["databases"]["archive"]["tables"]["articles"]["allow"] = {"id": "editor"}
    ds = make_datasette(archive_db, metadata)
    article_id = _id_of(archive_db, "/articles/1001.html")
    assert (await ds.client.get(f"/-/article/{article_id}")).status_code == 403
    cookies = {"ds_actor": ds.sign({"a": {"id": "editor"}}, "actor")}
    assert (await ds.client.get(f"/-/article/{article_id}", cookies=cookies)).status_code == 200


async def test_articles_table_and_row_link_titles_to_the_reading_view(archive_db):
    ds = make_datasette(archive_db)
    article_id = _id_of(archive_db, "/articles/1001.html")
    table = (await ds.client.get("/archive/articles")).text
    links = re.findall(r'<a href="/-/article/(\d+)" class="arshif-read">', table)
    with sqlite3.connect(archive_db) as connection:
        count = connection.execute("select count(*) from articles").fetchone()[0]
    assert len(links) == count and str(article_id) in links
    row_page = (await ds.client.get(f"/archive/articles/{article_id}")).text
    assert f'<a href="/-/article/{article_id}" class="arshif-read">' in row_page
    # And the link resolves.
    assert (await ds.client.get(f"/-/article/{links[0]}")).status_code == 200


def test_what_changed_between_two_texts_is_their_headline_and_paragraphs():
    """The versions table's 'what changed': a paragraph edited shows as removed then added, a paragraph kept
    is not shown, a headline change is shown as a pair."""
    import importlib.util

    from tests.conftest import PROJECT_DIR

    spec = importlib.util.spec_from_file_location("arshif_reading", PROJECT_DIR / "datasette/plugins/arshif_reading.py")
    reading = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reading)
    before = {"title": "اجتماع الوزراء", "text": "الفقرة الأولى\nعدد القتلى 12\nالفقرة الأخيرة"}
    after = {"title": "اجتماع الوزراء (محدث)", "text": "الفقرة الأولى\nعدد القتلى 15\nالفقرة الأخيرة\nتحديث: وصل الوفد"}
    assert reading.changes(before, after) == {"title": ("اجتماع الوزراء", "اجتماع الوزراء (محدث)"),
                                              "removed": ["عدد القتلى 12"], "added": ["عدد القتلى 15", "تحديث: وصل الوفد"]}
    assert reading.changes(after, after) == {"title": None, "removed": [], "added": []}
