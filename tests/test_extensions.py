"""Crawl-process tuning: the garbage collector settings a crawl runs with, and restores."""

from __future__ import annotations

import gc

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.extensions import GarbageCollectionTuning


def test_engine_start_freezes_what_is_loaded_and_raises_the_threshold():
    before = gc.get_threshold()
    crawler = get_crawler(settings_dict={"ARSHIF_GC_THRESHOLD": 12_345})
    extension = GarbageCollectionTuning.from_crawler(crawler)
    try:
        extension.engine_started()
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 10_000  # the modules, Scrapy, Twisted: out of every collection's way
        assert crawler.stats.get_value("arshif/gc_frozen_objects") >= gc.get_freeze_count()  # frozen objects can still be freed
    finally:
        extension.engine_stopped()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_zero_leaves_pythons_collector_alone():
    with pytest.raises(NotConfigured):
        GarbageCollectionTuning.from_crawler(get_crawler(settings_dict={"ARSHIF_GC_THRESHOLD": 0}))


def test_the_crawl_runs_with_it(demo_crawl):
    """The project's settings enable it: a real crawl of the demo site recorded what it froze."""
    assert demo_crawl.last_crawl()["stats"]["arshif/gc_frozen_objects"] > 10_000
