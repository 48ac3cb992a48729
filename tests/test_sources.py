"""Every seed file loads; bad files fail with the file and the key."""

from __future__ import annotations

from pathlib import Path

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


_BASE = 'name = "x"\nsite_url = "https://x.test/"\nstart_urls = ["https://x.test/"]\n'


@pytest.mark.parametrize(
    "extra, key",
    [
        ('prune_selectors = ["div[[class"]\n', "prune_selectors"),
        ('prune_selectors = ["div:nth-child(x)"]\n', "prune_selectors"),
        ('feeds = ["https://x.test:99999/feed"]\n', "feeds"),
        ('feeds = ["https://[x.test/feed"]\n', "feeds"),
        ('sitemaps = ["https:///sitemap.xml"]\n', "sitemaps"),
        ('feeds = ["https://x.test/my feed.rss"]\n', "feeds"),
        ('allowed_domains = ["https://x.test/"]\n', "allowed_domains"),
        ('article_allow = ["(a|aa)+$"]\n', "article_allow"),
        ('[limits]\nnewer_than = "last tuesday"\n', "limits.newer_than"),
        ('[limits]\nnewer_than = "2025-13-01"\n', "limits.newer_than"),
        ('[limits]\nmax_pages = -1\n', "limits.max_pages"),
        ('[limits]\nmax_depth = -2\n', "limits.max_depth"),
    ],
)
def test_every_value_is_checked_at_load(tmp_path, extra, key):
    """Mistakes that would otherwise record every article as failed, too old or not an article (issue 18, item 8)."""
    test_bad_source_names_file_and_key(tmp_path, _BASE + extra, key)


def test_good_values_load(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(_BASE + 'prune_selectors = ["div.related", "aside > ul li:nth-child(2n)"]\n'
                    'article_allow = [\'/news/\\d+/[^/]+\\.html$\', \'(\\w+-?)+\\.html$\']\n'
                    '[limits]\nnewer_than = "2025-01-31"\nmax_pages = 0\n', encoding="utf-8")
    source = load_source(str(path))
    assert source.limits.newer_than == "2025-01-31" and len(source.digest) == 16


def test_a_backtracking_slug_pattern_costs_no_time_per_url(tmp_path):
    import time

    path = tmp_path / "slug.toml"
    path.write_text(_BASE + "article_allow = ['(\\w+-?)+\\.html$']\n", encoding="utf-8")
    source = load_source(str(path))
    started = time.monotonic()
    assert not source.is_article_url("https://x.test/" + "a" * 30)  # stdlib re: minutes
    assert source.is_article_url("https://x.test/some-story-slug.html")
    assert time.monotonic() - started < 10  # stdlib re: minutes; the bound is far from both, so load cannot flip it


def test_all_leaves_out_a_source_that_is_not_scheduled_and_says_so(tmp_path, capsys):
    """`scheduled = false` (the shipped demo): `crawl --all` runs the others and names what it left out; naming it runs it."""
    from crawler.cli.crawl import _specs
    from crawler.cli.main import build_parser

    for name, extra in (("kept", ""), ("local", "scheduled = false\n"), ("broken", "name = [\n")):
        (tmp_path / f"{name}.toml").write_text(f'name = "{name}"\nsite_url = "http://127.0.0.1:1/"\nstart_urls = ["http://127.0.0.1:1/"]\n{extra}', encoding="utf-8")
    # saved as windows-1256, not UTF-8: run too (its load reports the file), not a traceback stopping every source
    (tmp_path / "cp1256.toml").write_bytes('name = "cp1256"\ntitle = "أخبار"\nsite_url = "http://127.0.0.1:1/"\n'.encode("cp1256"))
    args = build_parser().parse_args(["crawl", "--all", "--seeds", str(tmp_path)])
    specs = _specs(args)
    # a file that does not parse is still run, so its error gets a failed `crawls` row
    assert sorted(Path(spec).stem for spec in specs) == ["broken", "cp1256", "kept"]
    assert f"left out local (scheduled = false in {tmp_path / 'local.toml'}); name it to crawl it" in capsys.readouterr().out
    assert _specs(build_parser().parse_args(["crawl", "local"])) == ["local"]
    from crawler.sources import load_source, scheduled_files

    assert load_source(str(tmp_path / "local.toml")).scheduled is False
    assert [path.stem for path in scheduled_files()[1]] == ["demo"]  # the shipped demo only


def test_a_base_url_map_naming_a_left_out_source_does_not_refuse_the_run(tmp_path):
    """One map shared by `--all` and by runs that name the demo: its entry is set aside with a note, the rest runs."""
    from tests.conftest import run_arshif

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    demo = (SEEDS_DIR / "demo.toml").read_text(encoding="utf-8")
    (seeds / "on.toml").write_text(demo.replace('name = "demo"', 'name = "on"').replace("scheduled = false", ""), encoding="utf-8")
    (seeds / "off.toml").write_text(demo.replace('name = "demo"', 'name = "off"'), encoding="utf-8")
    base_map = tmp_path / "map.toml"
    base_map.write_text('on = "http://127.0.0.1:9"\noff = "http://127.0.0.1:9"\n', encoding="utf-8")  # nothing listens
    result = run_arshif("crawl", "--all", "--seeds", str(seeds), "--base-url-map", str(base_map), "--db",
                        str(tmp_path / "archive.db"), "--local", "--log-level", "WARNING")
    assert "--base-url for off not used (off is left out: scheduled = false)" in result.stdout, result.stdout + result.stderr
    assert "not in this run" not in result.stderr
    assert result.returncode == 2, result.stderr[-2000:]  # it ran: `on` yielded no article (its site is down)
    assert "1 sources: 0 finished, 0 failed, 1 yielded no article" in result.stdout
