"""Close a closing run whose pages come from start() (import, reextract's replay) once its pipelines are empty.

Scrapy (2.13-2.19) checks whether a closing scraper is idle only when a response is scraped; these spiders
scrape none, so a close (a failed write, Ctrl-C) with pages still in the pipelines waited forever, holding
the archive's lock. Calling the check when each item left the pipelines still raced: the last item could
leave between the close's start and Scrapy's one check, and then nothing looked again (seen: an import on a
WARC folder turned read-only hung until its 300 s guard). So the scraper is looked at every 50 ms from the
engine's start to the spider's close, whatever started the close.
"""

from __future__ import annotations

import logging

from scrapy import signals

logger = logging.getLogger(__name__)

EVERY = 0.05  # seconds between looks: a closing run ends at most this long after its last item


def close_when_idle(crawler) -> None:
    """Watch `crawler`'s scraper for the whole run (call from the spider's from_crawler)."""
    loops = []

    def start(**_):
        from twisted.internet import task  # made here: a LoopingCall made earlier installs a reactor of its choice

        loop = task.LoopingCall(_close_if_idle, crawler)
        loops.append(loop)
        loop.start(EVERY, now=False).addErrback(lambda failure: logger.error("close watch: %s", failure.value))

    def stop(**_):
        for loop in loops:
            if loop.running:
                loop.stop()

    crawler.signals.connect(start, signal=signals.engine_started, weak=False)
    crawler.signals.connect(stop, signal=signals.spider_closed, weak=False)
    crawler.signals.connect(stop, signal=signals.engine_stopped, weak=False)


def _close_if_idle(crawler) -> None:
    scraper = getattr(crawler.engine, "scraper", None)
    slot = getattr(scraper, "slot", None)
    closing = getattr(slot, "closing", None)
    if closing is not None and not closing.called and slot.is_idle():
        closing.callback(crawler.spider)
