"""Test-only spider middleware: every request gets a random priority, so pages download in a shuffled order.

Enabled by the ARSHIF_TEST_SHUFFLE_SEED setting (the order is the seed's), e.g.
``arshif crawl SRC -s 'SPIDER_MIDDLEWARES={"tests.shuffled_order.ShuffledOrder": 950}' -s ARSHIF_TEST_SHUFFLE_SEED=3``.
"""

from __future__ import annotations

import random

from scrapy import Request
from scrapy.exceptions import NotConfigured


class ShuffledOrder:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    @classmethod
    def from_crawler(cls, crawler):
        seed = crawler.settings.get("ARSHIF_TEST_SHUFFLE_SEED")
        if seed is None:
            raise NotConfigured
        return cls(int(seed))

    def _shuffled(self, entry):
        return entry.replace(priority=self.rng.randrange(-10_000, 10_000)) if isinstance(entry, Request) else entry

    def process_spider_output(self, response, result):
        for entry in result:
            yield self._shuffled(entry)

    async def process_spider_output_async(self, response, result):
        async for entry in result:
            yield self._shuffled(entry)
