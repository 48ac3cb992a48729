"""Every seed file loads; bad files fail with the file and the key."""

from __future__ import annotations

import pytest

from crawler.sources import SEEDS_DIR, SourceError, all_sources, load_source


def test_every_seed_file_is_valid():
    sources = all_sources()
    names = {s.name for s in sources}
    assert "demo" in names
    assert len(sources) >= 16, "demo + five seed publishers + ten major sources"
    for source in sources:
        assert source.path.endswith(f"{source.name}.toml")
        assert source.start_urls or source.sitemaps or source.feeds
        if source.name != "demo":
            text = (SEEDS_DIR / f"{source.name}.toml").read_text(encoding="utf-8")
            assert "not checked against the live site" in text.lower(), source.name
            assert source.checked_live is False


@pytest.mark.parametrize(
    "content, key",
    [
        ('name = "x"\nsite_url = "https://x.test/"\nstart_urls = ["https://x.test/"]\ncolour = "red"\n', "colour"),
        ('name = "x"\nsite_url = "https://x.test/"\nstart_urls = ["https://x.test/"]\narticle_allow = ["(unclosed"]\n', "article_allow"),
        ('name = "x"\nsite_url = "https://x.test/"\n', "start_urls"),
        ('site_url = "https://x.test/"\nstart_urls = ["https://x.test/"]\n', "name"),
        ('name = "x"\nsite_url = "https://x.test/"\nstart_urls = ["https://x.test/"]\n[limits]\nmax_pages = "many"\n', "limits.max_pages"),
        ('name = "x"\nsite_url = "https://x.test/"\nfeeds = ["ftp://x.test/feed"]\n', "feeds"),
    ],
)
def test_bad_source_names_file_and_key(tmp_path, content, key):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as error:
        load_source(str(path))
    message = str(error.value)
    assert str(path) in message and f": {key}:" in message


def test_unknown_source_lists_known_ones():
    with pytest.raises(SourceError, match="no such source.*demo"):
        load_source("no-such-source")


def test_article_patterns():
    source = load_source("demo")
    assert source.is_article_url("http://127.0.0.1:8642/articles/1001.html")
    assert not source.is_article_url("http://127.0.0.1:8642/section/politics/index.html")
