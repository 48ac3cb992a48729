"""Several `arshif crawl` workers, one crawl: scrapy-redis's scheduler and seen-set, shared in Redis.

`arshif crawl SOURCE --redis URL [--run NAME]` (or REDIS_URL) turns this on;
without it nothing here is imported and no Redis is needed. Every worker of a
run shares, under the key prefix ``arshif:<source>:<run>``:

- ``:requests``: scrapy-redis's priority queue (a sorted set of requests, JSON);
- ``:seen``: the request fingerprints (scrapy-redis's RFPDupeFilter, a set; or,
  with ARSHIF_REDIS_BLOOM, a Bloom filter in one Redis string);
- ``:workers``, ``:alive:<worker>`` (a heartbeat that expires after
  ARSHIF_REDIS_WORKER_TIMEOUT), ``:processing:<worker>`` (the requests a worker
  took and has not finished: a reliable queue);
- ``:finished``: set by the last worker when nothing is left.

A request is taken from the queue and recorded as the worker's in one Lua
script, and is released only once Scrapy has finished it and the storage
pipeline has committed its rows, so a worker killed at any point (SIGKILL
included) loses nothing: when its heartbeat expires, any other worker of the
run, or the same one restarted, puts its unfinished requests back in the queue.
A request is added to the seen-set and to the queue in one script too. Start
requests go through the seen-set, so only the first worker fetches them.
A worker stops when the queue is empty and no live worker holds a request
(for SCHEDULER_IDLE_BEFORE_CLOSE seconds). Keys expire ARSHIF_REDIS_TTL
seconds after the run's last activity.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import math
import os
import re
import socket
import time
from datetime import datetime, timezone
from secrets import token_hex

from scrapy import Request
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)

KEY_ROOT = "arshif"
DEFAULT_TTL = 3 * 24 * 3600  # ARSHIF_REDIS_TTL: keys expire three days after the run's last activity
DEFAULT_WORKER_TIMEOUT = 60  # ARSHIF_REDIS_WORKER_TIMEOUT: seconds without a heartbeat before a worker is presumed dead
DEFAULT_IDLE_BEFORE_CLOSE = 1  # SCHEDULER_IDLE_BEFORE_CLOSE: seconds the cluster must look idle before a worker stops
BLOOM_ERROR_RATE = 1e-6  # false positives of ARSHIF_REDIS_BLOOM: a URL wrongly taken as seen is not fetched
MAX_BLOOM_BITS = 2**32  # a Redis string holds at most 512 MB
TICK_SECONDS = 0.5
KNOWN_CAP = 200_000  # fingerprints a worker remembers locally (about 25 MB), then starts over
_RUN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Add the request to the seen-set and the queue in one step: a crash between the two would lose it.
_ENQUEUE = """
local fresh = 1
if ARGV[1] == 'set' then
  fresh = redis.call('SADD', KEYS[2], ARGV[4])
elseif ARGV[1] == 'bloom' then
  fresh = 0
  for i = 4, #ARGV do
    if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then fresh = 1 end
  end
end
if fresh == 1 and ARGV[3] ~= '' then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3]) end
return fresh
"""
# Take the first request and record it as this worker's (score|request), in one step.
_CLAIM = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return false end
redis.call('ZREM', KEYS[1], first[1])
redis.call('HSET', KEYS[2], ARGV[1], first[2] .. '|' .. first[1])
return first[1]
"""
# Heartbeat; requeue the requests of workers whose heartbeat expired; refresh expiry; report.
_TICK = """
redis.call('SET', KEYS[5], '1', 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
local busy, requeued = 0, 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local claims = ARGV[1] .. ':processing:' .. worker
  if redis.call('EXISTS', ARGV[1] .. ':alive:' .. worker) == 0 then
    for _, entry in ipairs(redis.call('HVALS', claims)) do
      local bar = string.find(entry, '|', 1, true)
      redis.call('ZADD', KEYS[1], string.sub(entry, 1, bar - 1), string.sub(entry, bar + 1))
      requeued = requeued + 1
    end
    redis.call('DEL', claims)
    redis.call('SREM', KEYS[2], worker)
  elseif worker ~= ARGV[2] then
    busy = busy + redis.call('HLEN', claims)
  end
end
if tonumber(ARGV[4]) > 0 then
  for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
end
return {redis.call('ZCARD', KEYS[1]), busy, requeued}
"""
# Leave the run; the last one out, with nothing queued or held, marks it finished.
_LEAVE = """
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('ZCARD', KEYS[4]) > 0 then return 0 end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('HLEN', ARGV[4] .. ':processing:' .. worker) > 0 then return 0 end
end
redis.call('SET', KEYS[5], ARGV[3])
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[5], ARGV[2]) end
return 1
"""


class ClusterError(ValueError):
    """A cluster option the user can fix: a bad run name, an impossible Bloom filter."""


def default_run_name(moment: datetime | None = None) -> str:
    """The UTC date: workers started the same day join the same run."""
    return (moment or datetime.now(timezone.utc)).strftime("%Y-%m-%d")


def run_prefix(source: str, run: str) -> str:
    if not _RUN_RE.match(run):
        raise ClusterError(f"--run {run!r}: use letters, digits, '.', '_' and '-' (at most 64)")
    return f"{KEY_ROOT}:{source}:{run}"


def safe_url(url: str) -> str:
    """The Redis URL without its password, for messages."""
    return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)


def configure(settings, source: str) -> str:
    """Turn a crawl's settings into a cluster worker's (REDIS_URL is set); return the key prefix."""
    run = settings.get("ARSHIF_REDIS_RUN") or default_run_name()
    prefix = run_prefix(source, run)
    bloom_bits(settings.getint("ARSHIF_REDIS_BLOOM", 0))  # fail before Scrapy starts
    worker = f"{socket.gethostname()}-{os.getpid()}-{token_hex(3)}"
    values = {
        "SCHEDULER": "crawler.cluster.ClusterScheduler",
        "DUPEFILTER_CLASS": "crawler.cluster.ClusterDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:seen",
        "SCHEDULER_SERIALIZER": JsonSerializer,
        "SCHEDULER_PERSIST": True,  # one worker finishing must not clear the others' queue
        "ARSHIF_REDIS_PREFIX": prefix,
        "ARSHIF_REDIS_WORKER": worker,
        "SPIDER_MIDDLEWARES": {**settings.getdict("SPIDER_MIDDLEWARES"), "crawler.cluster.SharedStartMiddleware": 10},
    }
    for name, value in values.items():
        settings.set(name, value, priority="cmdline")
    if settings.get("SCHEDULER_IDLE_BEFORE_CLOSE") is None:
        settings.set("SCHEDULER_IDLE_BEFORE_CLOSE", DEFAULT_IDLE_BEFORE_CLOSE, priority="cmdline")
    return prefix


# request.meta keys that only mean something in the worker that set them: where it archived a response
_LOCAL_META = frozenset({"arshif_warc"})


class JsonSerializer:
    """Requests in Redis as JSON, not pickle: whoever can write to Redis cannot run code in a worker."""

    @staticmethod
    def dumps(value) -> str:
        meta = value.get("meta") if isinstance(value, dict) else None
        if meta and _LOCAL_META & meta.keys():  # a redirect's request carries them from the response before
            value = {**value, "meta": {key: item for key, item in meta.items() if key not in _LOCAL_META}}
        return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def loads(data):
        return _decode(json.loads(data))


def _encode(value):
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: _encode(item) for key, item in value.items()}
        return {"$d": [[_encode(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot queue a request carrying a {type(value).__name__} in its meta or arguments")


def _decode(value):
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$d" in value:
            return {_decode(key): _decode(item) for key, item in value["$d"]}
        return {key: _decode(item) for key, item in value.items()}
    return value


def bloom_bits(capacity: int) -> tuple[int, int]:
    """(bits, hash functions) of a Bloom filter for `capacity` URLs at BLOOM_ERROR_RATE; (0, 0) when off."""
    if capacity <= 0:
        return 0, 0
    bits = math.ceil(-capacity * math.log(BLOOM_ERROR_RATE) / math.log(2) ** 2)
    if bits > MAX_BLOOM_BITS:
        most = int(MAX_BLOOM_BITS * math.log(2) ** 2 / -math.log(BLOOM_ERROR_RATE))
        raise ClusterError(f"ARSHIF_REDIS_BLOOM={capacity}: a Redis string holds at most {most:,} URLs at this error rate")
    return bits, max(1, round(bits / capacity * math.log(2)))


class ClusterDupeFilter(RFPDupeFilter):
    """scrapy-redis's RFPDupeFilter (same fingerprints, same set), or a Bloom filter in one Redis string."""

    def __init__(self, server, key, debug=False, bloom_capacity: int = 0):
        super().__init__(server, key, debug)
        self.bits, self.hashes = bloom_bits(bloom_capacity)
        self._script = server.register_script(_ENQUEUE)

    @classmethod
    def from_spider(cls, spider):
        from scrapy_redis.connection import get_redis_from_settings

        settings = spider.settings
        return cls(
            get_redis_from_settings(settings),
            settings.get("SCHEDULER_DUPEFILTER_KEY"),
            settings.getbool("DUPEFILTER_DEBUG"),
            settings.getint("ARSHIF_REDIS_BLOOM", 0),
        )

    def check_args(self, fingerprint: str) -> list:
        """What the Lua scripts need to test-and-add a fingerprint: ['set', fp] or ['bloom', offsets...]."""
        if not self.bits:
            return ["set", fingerprint]
        first, step = int(fingerprint[:16], 16), int(fingerprint[16:32], 16) | 1
        return ["bloom", *((first + i * step) % self.bits for i in range(self.hashes))]

    def request_seen(self, request) -> bool:
        """Test and add without queueing (scrapy-redis's interface; the scheduler queues in the same step)."""
        mode, *check = self.check_args(self.request_fingerprint(request))
        return self._script(keys=[self.key, self.key], args=[mode, 0, "", *check]) == 0


class SharedStartMiddleware:
    """Start requests go through the shared seen-set, so only the first worker of a run fetches them."""

    async def process_start(self, start):
        async for item in start:
            if isinstance(item, Request) and item.dont_filter:
                item = item.replace(dont_filter=False)
            yield item


class ClusterScheduler(Scheduler):
    """scrapy-redis's Scheduler with a reliable queue: a taken request is released once it is stored."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        settings = crawler.settings
        scheduler.crawler = crawler
        scheduler.prefix = settings.get("ARSHIF_REDIS_PREFIX")
        scheduler.worker = settings.get("ARSHIF_REDIS_WORKER")
        scheduler.ttl = settings.getint("ARSHIF_REDIS_TTL", DEFAULT_TTL)
        scheduler.worker_timeout = settings.getfloat("ARSHIF_REDIS_WORKER_TIMEOUT", DEFAULT_WORKER_TIMEOUT)
        scheduler.claims = {}  # claim id → the Request object handed to the engine
        scheduler.known = set()  # fingerprints this worker met: a link met again costs no round trip to Redis
        scheduler._ids = itertools.count(1)
        scheduler._idle_since = None
        scheduler._loop = None
        scheduler._warned = False
        scheduler.finished_before = None
        server = scheduler.server
        scheduler._claim = server.register_script(_CLAIM)
        scheduler._tick_script = server.register_script(_TICK)
        scheduler._leave = server.register_script(_LEAVE)
        return scheduler

    # -- keys -------------------------------------------------------------------

    @property
    def processing_key(self) -> str:
        return f"{self.prefix}:processing:{self.worker}"

    def _tick_keys(self) -> list[str]:
        p = self.prefix
        return [self.queue.key, f"{p}:workers", self.df.key, self.processing_key, f"{p}:alive:{self.worker}"]

    # -- Scrapy's scheduler interface ------------------------------------------------

    def open(self, spider):
        # scrapy-redis's open(), without its deprecated spider.log() call
        self.spider = spider
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider, key=self.queue_key,
                                                 serializer=self.serializer)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        finished = self.server.get(f"{self.prefix}:finished")
        if finished:
            self.finished_before = finished.decode()
            logger.warning("Cluster run %s finished at %s: nothing is left to crawl in it; use a new --run to crawl again",
                           self.prefix, self.finished_before)
        self.stats.set_value("cluster/run", self.prefix)
        self.stats.set_value("cluster/worker", self.worker)
        self._tick()
        logger.info("Cluster run %s on %s: worker %s, %s requests queued", self.prefix,
                    safe_url(self.crawler.settings.get("REDIS_URL")), self.worker, len(self.queue))
        self._loop = _looping_call(self._tick)
        self._loop.start(TICK_SECONDS, now=False)

    def close(self, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        # The engine closes the scheduler after every request finished and the pipelines closed (rows committed).
        self.claims.clear()
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        p = self.prefix
        done = self._leave(
            keys=[f"{p}:workers", self.processing_key, f"{p}:alive:{self.worker}", self.queue.key, f"{p}:finished"],
            args=[self.worker, self.ttl, now, p],
        )
        if done:
            logger.info("Cluster run %s: nothing left; marked finished", p)
        super().close(reason)  # SCHEDULER_PERSIST: the queue and the seen-set stay for the other workers

    def enqueue_request(self, request) -> bool:
        if request.dont_filter:
            check = ["always"]
        else:
            fingerprint = self.df.request_fingerprint(request)
            if fingerprint in self.known:  # a run's seen-set only grows: seen once, seen for good
                self.df.log(request, self.spider)
                return False
            if len(self.known) >= KNOWN_CAP:
                self.known.clear()
            self.known.add(fingerprint)
            check = self.df.check_args(fingerprint)
        data = self.queue._encode_request(request)
        fresh = self.df._script(keys=[self.queue.key, self.df.key], args=[check[0], -request.priority, data, *check[1:]])
        if not fresh:
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        claim = f"{next(self._ids)}"
        data = self._claim(keys=[self.queue.key, self.processing_key], args=[claim])
        if data is None:
            return None
        request = self.queue._decode_request(data)
        self.claims[claim] = request
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """Pending while anything is queued, or another live worker may still queue something."""
        if len(self.queue) > 0:
            return True
        return self._idle_since is None or time.monotonic() - self._idle_since < self.idle_before_close

    # -- the reliable queue ------------------------------------------------------------

    def _tick(self) -> None:
        try:
            self._release_finished()
            queued, busy, requeued = self._tick_script(
                keys=self._tick_keys(), args=[self.prefix, self.worker, int(self.worker_timeout * 1000), self.ttl]
            )
        except Exception:  # Redis away, disk full: keep the claims, try again at the next tick
            logger.exception("Cluster run %s: heartbeat failed", self.prefix)
            return
        if requeued:
            logger.warning("Cluster run %s: %s requests of stopped workers put back in the queue", self.prefix, requeued)
            self.stats.inc_value("cluster/requests_requeued", requeued)
        if queued or busy or self.claims:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()  # wake the engine: requests queued by others, or time to close

    def _release_finished(self) -> None:
        """Release the requests Scrapy has finished, once the storage pipeline has committed their rows."""
        slot = getattr(self.crawler.engine, "_slot", None)
        in_progress = getattr(slot, "inprogress", None)  # the engine's requests between download and scraped
        if in_progress is None or not self.claims:
            if slot is not None and in_progress is None and not self._warned:
                self._warned = True
                logger.warning("This Scrapy version has no engine slot `inprogress`: requests are released only "
                               "when the worker stops, and a killed worker's are all fetched again")
            return
        finished = [claim for claim, request in self.claims.items() if request not in in_progress]
        if not finished:
            return
        self._commit()
        self.server.hdel(self.processing_key, *finished)
        for claim in finished:
            del self.claims[claim]
        self.stats.inc_value("cluster/requests_released", len(finished))

    def _commit(self) -> None:
        from pipelines.storage import StoragePipeline

        for pipeline in getattr(self.crawler.engine.scraper.itemproc, "middlewares", ()):
            if isinstance(pipeline, StoragePipeline) and pipeline.db is not None:
                pipeline.flush()


def _looping_call(function):
    try:
        from scrapy.utils.asyncio import create_looping_call
    except ImportError:  # Scrapy < 2.14
        from twisted.internet.task import LoopingCall as create_looping_call
    return create_looping_call(function)
