"""Scrapy settings for Arshif. Every Arshif setting starts with ARSHIF_ (see README)."""

BOT_NAME = "arshif"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "Arshif/0.1 (Arabic news archive; +https://github.com/arshif/arshif)"
ROBOTSTXT_OBEY = True

# Politeness for real sources; the demo and tests turn AutoThrottle off.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # news pages are well under 2 MB; also caps decompression (gzip bombs)
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
# A response counts against this until its item has left every pipeline, so pages queued for the
# extraction pool do too. Scrapy's 5 MB paused downloads too often: 121 -> 140 pages/s at
# 10,000 pages with 20 MB (bench/throughput), and peak memory did not grow.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 20 * 1024 * 1024
# With the asyncio reactor Scrapy starts this many asyncio tasks for every response's callback
# output, whatever it holds. Our callbacks yield at most one item, so 8 loses no parallelism and
# takes about 0.5 ms of reactor CPU off each page against Scrapy's 100 (bench/throughput).
CONCURRENT_ITEMS = 8
REDIRECT_MAX_TIMES = 10
DEPTH_LIMIT = 6
HTTPERROR_ALLOW_ALL = False

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SafeAddressMiddleware": 10,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,  # reads http_proxy from the environment
    "crawler.middlewares.ConfiguredProxyMiddleware": 750,  # the same, with proxies from ARSHIF_PROXY only
    "crawler.middlewares.RetryAfterMiddleware": 560,  # after RetryMiddleware (550) in response order
    "crawler.middlewares.IncrementalMiddleware": 540,  # before DownloaderStats: skipped requests are not counted
    "crawler.middlewares.PageLimitMiddleware": 545,  # after IncrementalMiddleware: skipped pages do not count
    "crawler.middlewares.WarcMiddleware": 950,
}

EXTENSIONS = {
    "crawler.extensions.GarbageCollectionTuning": 0,
}

ITEM_PIPELINES = {
    "pipelines.extract.ExtractionPipeline": 100,
    "pipelines.language_filter.LanguagePipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
    "pipelines.storage.StoragePipeline": 400,
}

# Drops are normal outcomes (duplicates, other languages): log them quietly.
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.logformatter.ArshifLogFormatter"  # no page bytes in the log
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# --- Arshif ---
ARSHIF_DB = "data/archive.db"  # the SQLite archive
ARSHIF_KEEP_LANGUAGES = ["ar"]  # languages stored; others are dropped as "not_arabic"
ARSHIF_MIN_WORDS = 40  # fewer words in the body: not an article
ARSHIF_BATCH_SIZE = 50  # articles per SQLite transaction
ARSHIF_IMPORT_UNIT_RECORDS = 1000  # `arshif import`: records of a file decided and committed together (a kill loses one unit)
ARSHIF_WARC_DIR = None  # WARC folder; None: `warc/` beside ARSHIF_DB; "": no WARC
ARSHIF_WARC_MAX_SIZE = 100 * 1024 * 1024  # rotate WARC files at this size (bytes)
ARSHIF_WARC_GZIP_LEVEL = 6  # zlib level 1-9 of each WARC record (warcio's own is 9: slower, 1% smaller)
ARSHIF_SITEMAP_MAXSIZE = 50 * 1024 * 1024  # sitemaps (the protocol's 50 MB), also after gunzip; pages keep DOWNLOAD_MAXSIZE
ARSHIF_MAX_PAGES = 0  # pages downloaded at most (robots.txt aside); a source's `[limits] max_pages` sets it; 0: no limit
ARSHIF_RETRY_FAILED = False  # True: fetch again article pages whose outcome was extraction_failed, not_article or too_old (--retry-failed)
ARSHIF_REFRESH = False  # True: download archived article pages again
ARSHIF_EXTRACT_WORKERS = -1  # extraction processes; -1: cores - 1 (at least 1), 0: on the reactor thread
ARSHIF_EXTRACT_IN_FLIGHT = 0  # pages in the pool at once; 0: 16 per worker
ARSHIF_MAX_RETRY_AFTER = 60  # longest Retry-After wait honoured (seconds)
ARSHIF_GC_THRESHOLD = 10_000  # collect new objects every N allocations, not 700, and freeze what is loaded at start (0: Python's own)
ARSHIF_NEAR_INDEX_BATCH = 2000  # articles whose near-duplicate index rows are written in one transaction (pipelines/dedup.py)
ARSHIF_NEAR_DUPLICATE_THRESHOLD = 0.6  # exact Jaccard of word 3-shingles from which two articles are one story; 0: off

# --- Security (SECURITY.md): hostile pages and hostile DNS ---
# One resolver checks every address and is the one connections use (no DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.resolver.CheckedResolver"
TELNETCONSOLE_ENABLED = False  # no remote-control endpoint on 127.0.0.1 during a crawl
ARSHIF_PROXY = None  # proxy URL for every request; None: no proxy, http_proxy/https_proxy ignored; "env": use them

# --- Cluster: `arshif crawl --redis URL` (crawler/cluster.py); REDIS_URL is scrapy-redis's own setting ---
ARSHIF_REDIS_RUN = None  # the run every worker of one cluster crawl joins (--run); None: today's UTC date
ARSHIF_REDIS_TTL = 3 * 24 * 3600  # the run's Redis keys expire this long after its last activity (--redis-ttl); 0: never
ARSHIF_REDIS_BLOOM = 0  # >0: the seen-set is a Bloom filter sized for this many URLs (--redis-bloom); 0: an exact set
ARSHIF_REDIS_WORKER_TIMEOUT = 60  # seconds without a heartbeat before a worker's unfinished requests go back to the queue
