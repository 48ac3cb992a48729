"""URL canonicalization: tracking parameters, fragments, ports, and the per-source folds."""

from __future__ import annotations

import pytest

from pipelines.similarity.urls import (
    FOLDS,
    canonical_url,
    check_fold,
    fetch_url,
    fold_url,
    is_own_address,
    is_tracking_param,
    same_site,
)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://x.com/a?utm_source=fb&utm_medium=social&id=3", "https://x.com/a?id=3"),
        ("https://x.com/a?fbclid=IwAR0&gclid=1&msclkid=2&yclid=3", "https://x.com/a"),
        ("https://x.com/a?mc_cid=1&mc_eid=2&_ga=3&_gl=4&igshid=5", "https://x.com/a"),
        ("https://x.com/a?xtor=RSS-1&at_medium=x&pk_campaign=y&ref=home", "https://x.com/a"),
        ("https://x.com/a?amp;utm_source=x&p=2", "https://x.com/a?p=2"),  # an `&amp;` left escaped
        ("https://x.com/a?UTM_Source=x&FBCLID=y", "https://x.com/a"),
        ("https://x.com/a?utm%5Fsource=x", "https://x.com/a"),  # percent-encoded key
        ("https://x.com/a?fb\tclid=1", "https://x.com/a"),  # tab inside: browsers drop it
        ("https://x.com/a?b=2&a=1#comments", "https://x.com/a?a=1&b=2"),
        ("HTTP://WWW.X.COM:80/a", "http://www.x.com/a"),
        ("https://x.com:443/a", "https://x.com/a"),
        ("https://x.com:8080/a", "https://x.com:8080/a"),
        ("https://x.com/أخبار/مقال?q=بحث", "https://x.com/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D9%85%D9%82%D8%A7%D9%84?q=%D8%A8%D8%AD%D8%AB"),
    ],
)
def test_canonical_url_drops_tracking_and_fragment_and_sorts(url, expected):
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected


@pytest.mark.parametrize("query", ["gallery=2", "source_id=4", "id=3", "page=2", "p=1", "ref_id=9", "amp=1", "cat=news"])
def test_parameters_that_name_a_page_are_kept(query):
    assert canonical_url(f"https://x.com/a?{query}") == f"https://x.com/a?{query}"


def test_tracking_names():
    assert all(is_tracking_param(name) for name in ("utm_term", "fbclid", "mc_cid", "_ga", "wt_mc", "share"))
    assert not any(is_tracking_param(name) for name in ("id", "page", "gallery", "utm", "source_id", "q"))


WWW_MOBILE_AMP = {"www", "mobile", "amp"}


@pytest.mark.parametrize(
    "url, fold, expected",
    [
        ("https://www.x.com/news/1", {"www"}, "https://x.com/news/1"),
        ("https://m.x.com/news/1", {"mobile"}, "https://x.com/news/1"),
        ("https://mobile.x.com/news/1", {"mobile"}, "https://x.com/news/1"),
        ("https://amp.x.com/news/1", {"amp"}, "https://x.com/news/1"),
        ("https://x.com/amp/news/1", {"amp"}, "https://x.com/news/1"),
        ("https://x.com/news/1/amp", {"amp"}, "https://x.com/news/1"),
        ("https://x.com/news/1/amp/", {"amp"}, "https://x.com/news/1/"),
        ("https://x.com/news/1.amp.html", {"amp"}, "https://x.com/news/1.html"),
        ("https://x.com/news/1.amp", {"amp"}, "https://x.com/news/1"),
        ("https://x.com/news/1?amp=1&id=2", {"amp"}, "https://x.com/news/1?id=2"),
        ("https://x.com/news/1?outputType=amp", {"amp"}, "https://x.com/news/1"),
        ("https://x.com/news/1?outputType=print", {"amp"}, "https://x.com/news/1?outputType=print"),
        ("https://www.m.x.com/amp/news/1.amp.html?amp", WWW_MOBILE_AMP, "https://x.com/news/1.html"),
        ("https://www.x.com/amp/news/1?utm_source=t", {"www"}, "https://x.com/amp/news/1"),  # amp not asked
        ("https://x.com/news/example/1", WWW_MOBILE_AMP, "https://x.com/news/example/1"),  # "amp" inside a word
        ("https://www.com/", {"www"}, "https://www.com/"),  # not a prefix: the whole name
    ],
)
def test_fold_variants(url, fold, expected):
    assert canonical_url(url, fold) == expected
    assert canonical_url(expected, fold) == expected


def test_no_fold_by_default():
    assert canonical_url("https://www.x.com/amp/news/1?amp=1") == "https://www.x.com/amp/news/1?amp=1"
    assert fold_url("https://www.x.com/a", ()) == "https://www.x.com/a"


def test_unknown_fold_is_an_error():
    assert check_fold(["www", "amp"]) == {"www", "amp"} and FOLDS == {"www", "mobile", "amp"}
    with pytest.raises(ValueError, match="unknown url_fold"):
        canonical_url("https://x.com/", ["wwww"])


def test_fetch_url_only_drops_the_fragment():
    url = "https://x.com/news/1.html?utm_source=fb&b=2&a=1"
    assert fetch_url(url + "#comments") == url
    assert fetch_url(" https://x.com/a ") == "https://x.com/a"


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("https://www.x.com/a", "https://x.com/b", True),
        ("https://m.x.com/a", "https://amp.x.com/b", True),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:9000/b", True),
        ("https://x.com/a", "https://y.com/a", False),
        ("https://x.com/a", "not a url", False),
    ],
)
def test_same_site(a, b, same):
    assert same_site(a, b) is same


@pytest.mark.parametrize(
    "url, canonical, fold, own",
    [
        ("https://x.com/a?b=2&a=1#top", "https://x.com/a?a=1&b=2", (), True),
        ("https://x.com/a?utm_source=fb", "https://x.com/a", (), False),
        ("https://x.com/amp/a", "https://x.com/a", (), False),
        ("https://x.com/amp/a", "https://x.com/amp/a", {"amp"}, False),  # no canonical link, folded alias
        ("https://x.com/a", "https://x.com/a", {"amp", "www"}, True),
    ],
)
def test_own_address_or_alias(url, canonical, fold, own):
    assert is_own_address(url, canonical, fold) is own
