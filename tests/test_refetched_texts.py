"""A URL the archive holds, fetched again with a text it does not hold, keeps that text: a duplicate's URL under
`crawl --refresh`, a shard's older fetch under `arshif merge` (issue 17: never lose an article)."""

from __future__ import annotations

from pathlib import Path

from crawler.demo.server import SiteServer
from tests.conftest import crawl
from tests.story_site import pages
from tests.test_dedup_aliases import X, Y, Z, _path, _site
from tests.test_distributed import _article, _merge, _rows, _shard

P0 = pages.B[0] + " " + pages.B[1]
P1 = P0 + " وأضاف المتحدث في تحديث لاحق أن الاجتماع المقبل سيعقد في الرباط."


def _counts(db) -> tuple:
    return tuple(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("articles", "duplicates", "versions"))


def test_refresh_keeps_the_new_text_of_a_duplicates_url(tmp_path):
    """d.html, an exact copy of b.html, changes to a text of its own: --refresh stores it as an article for that
    URL, the `exact` row stays as the record of what it was; another --refresh adds nothing."""
    site = {
        "/news/b.html": ("باء", "2025-05-01T08:00:00+03:00", X, None),
        "/news/d.html": ("دال", "2025-05-02T08:00:00+03:00", X, None),
        "/news/c.html": ("جيم", "2025-05-01T09:00:00+03:00", Y, None),
    }
    root = tmp_path / "site"
    source = str(_site(root, site))
    db_path = tmp_path / "archive.db"
    with SiteServer(root) as server:
        first = crawl(source, db_path, server.origin)
        assert first.returncode == 0, first.stderr[-3000:]
        duplicates = {_path(row["url"]): row for row in first.db.query("SELECT * FROM duplicates")}
        assert duplicates["/news/d.html"]["kind"] == "exact"
        (root / "news" / "d.html").write_text(pages.page("/news/d.html", "دال", "2025-05-02T08:00:00+03:00", Z),
                                              encoding="utf-8")
        refreshed = crawl(source, db_path, server.origin, "--refresh")
        assert refreshed.returncode == 0, refreshed.stderr[-3000:]
        articles = {_path(row["url"]): row for row in refreshed.db.query("SELECT * FROM articles")}
        assert sorted(articles) == ["/news/b.html", "/news/c.html", "/news/d.html"]
        assert articles["/news/d.html"]["text"].startswith(Z[0][:20])
        assert articles["/news/b.html"]["text"].startswith(X[0][:20])  # the article d.html copied is untouched
        kept = {_path(row["url"]): row for row in refreshed.db.query("SELECT * FROM duplicates")}
        assert kept == duplicates  # the record of what d.html was
        before = _counts(refreshed.db)
        again = crawl(source, db_path, server.origin, "--refresh")
        assert again.returncode == 0, again.stderr[-3000:]
        assert _counts(again.db) == before == (3, 1, 0)


def test_merge_keeps_an_older_text_as_a_version_in_both_directions(tmp_path):
    """S1 fetched a.html at 04:54:15 (P0), T1 at 04:54:27 (P1): either merge direction ends with the article
    showing P1 and P0 as the version before it; merging again adds nothing."""
    def shards(folder: Path) -> tuple[Path, Path]:
        folder.mkdir()
        older = _shard(folder / "s1.db", [_article("http://x/a.html", P0, "2025-03-10", "2026-12-07T04:54:15+00:00"),
                                          _article("http://x/o.html", X[0], "2025-03-10", "2026-12-07T04:54:16+00:00")])
        newer = _shard(folder / "t1.db", [_article("http://x/a.html", P1, "2025-03-10", "2026-12-07T04:54:27+00:00")])
        return older, newer

    def texts(db_path: Path) -> tuple:
        article = _rows(db_path, "SELECT text, fetched_at FROM articles WHERE url = 'http://x/a.html'")
        versions = _rows(db_path, "SELECT v.text, v.fetched_at, v.superseded_at FROM versions v"
                                  " JOIN articles a ON a.id = v.article_id WHERE a.url = 'http://x/a.html'")
        return article, versions

    expected = ([(P1, "2026-12-07T04:54:27+00:00")],
                [(P0, "2026-12-07T04:54:15+00:00", "2026-12-07T04:54:27+00:00")])
    older, newer = shards(tmp_path / "forward")
    result = _merge([older], newer)
    assert "1 older texts kept as versions" in result.stdout
    assert texts(newer) == expected
    before = _rows(newer, "SELECT * FROM versions"), _rows(newer, "SELECT * FROM articles")
    _merge([older], newer)
    assert (_rows(newer, "SELECT * FROM versions"), _rows(newer, "SELECT * FROM articles")) == before

    older, newer = shards(tmp_path / "backward")
    _merge([newer], older)
    assert texts(older)[0] == expected[0] and [v[:2] for v in texts(older)[1]] == [v[:2] for v in expected[1]]
