"""Scrapy extensions: process-wide tuning of the crawl process."""

from __future__ import annotations

import gc
import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class GarbageCollectionTuning:
    """Spend less of the reactor's time in Python's cyclic garbage collector.

    A crawl allocates container objects (requests, their meta dicts, deferreds,
    tasks) at a high rate, and most die within a page. With CPython's default
    first-generation threshold (700 allocations) the collector runs several
    times a page while they are still alive, moves them into older generations,
    and every full collection then walks everything the process holds: modules,
    Scrapy, Twisted, lxml's Python side. bench/throughput measured 0.6 ms a page
    of the reactor's ~4.6 ms in the collector. So, when the engine starts:
    everything loaded so far is moved out of the collector's sight (`gc.freeze`;
    it lives as long as the process anyway), and the first generation is
    collected every ARSHIF_GC_THRESHOLD allocations. Cycles are still collected;
    ARSHIF_GC_THRESHOLD = 0 leaves the collector as Python sets it. The crawlers of
    `arshif crawl --all` share the process: the first to start tunes it, the last to stop restores it.
    """

    _running = 0  # crawlers of this process between engine_started and engine_stopped
    _saved: tuple[int, int, int] | None = None

    def __init__(self, crawler, threshold: int):
        self.crawler = crawler
        self.threshold = threshold
        self.saved: tuple[int, int, int] | None = None

    @classmethod
    def from_crawler(cls, crawler):
        threshold = crawler.settings.getint("ARSHIF_GC_THRESHOLD", 0)
        if threshold <= 0:
            raise NotConfigured("ARSHIF_GC_THRESHOLD is 0: Python's own collector settings")
        extension = cls(crawler, threshold)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self):
        self.saved = gc.get_threshold()
        cls = type(self)
        cls._running += 1
        if cls._running == 1:
            cls._saved = self.saved
            gc.collect()
            gc.freeze()
            gc.set_threshold(self.threshold, *self.saved[1:])
        self.crawler.stats.set_value("arshif/gc_frozen_objects", gc.get_freeze_count())

    def engine_stopped(self):
        if self.saved is not None:
            cls = type(self)
            cls._running -= 1
            if cls._running == 0 and cls._saved is not None:
                gc.set_threshold(*cls._saved)
                gc.unfreeze()
                cls._saved = None
            self.saved = None
