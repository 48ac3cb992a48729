"""DedupPipeline: the one place that decides whether a page is a copy, against the whole archive.

Order of checks, each against the archive and against this run:

1. this very URL was fetched before (an article or a duplicates row): dropped
   as `already_archived` (crawler.middlewares.IncrementalMiddleware normally
   stops it before it is fetched);
2. the page's URL or its canonical URL (`<link rel="canonical">` or `og:url` on
   the same site) is a known page's, once tracking parameters are dropped and
   host and AMP variants folded as the source's `url_fold` says, and the page
   carries that page's text (content hash): a `url` duplicate. So every URL is fetched at
   most once across runs, and each alias of a story (tracking parameters, AMP
   page) is recorded, never lost. A page with another text behind a known
   address (a CMS declaring one canonical URL for every page, an AMP page whose
   extraction differs) goes on to the next steps like any page (`_copy_of`);
3. the hash of the normalized body is known: an `exact` duplicate;
4. otherwise the page is stored as an article, a story of its own for now.
   MinHash-LSH proposes archived articles that may share its text; each is decided
   by the exact Jaccard similarity of the two word 3-shingle sets
   (pipelines/similarity/near_duplicates.py), and those at or above
   ARSHIF_NEAR_DUPLICATE_THRESHOLD (0: no check) are recorded as the article's
   verified pairs.

Only `url` and `exact` copies become `duplicates` rows: a distinct text is
never dropped. Stories are decided when the run ends (StoragePipeline, `arshif
merge`: pipelines/similarity/stories.py): a story is a connected component of the
verified pairs that share text that is not template as the archive stands at the
end of the run. Every pair is checked when the later of the two pages arrives, LSH
proposes a pair or not whatever the order (a bucket skipped as over-full is
over-full at the end), Jaccard is symmetric and the template counts are the whole
run's, so the partition into stories does not depend on the download order, in
the first run into an empty archive as in any later one.

Which page of a set of exact copies (or of a page's URL aliases) is the
article is decided by the pages themselves (`rank`): the earliest `published`,
then the page fetched at its own canonical address, then the smallest
canonical URL, then the smallest URL. A duplicates row's kind is the page's own
too (`_kind`): `exact` when it is the article's normalized text at a page's own
address, `url` when it was fetched under an alias (tracking parameters, AMP or
host variant, a canonical address elsewhere); so neither depends on the order
in which copies and aliases arrive. Within one run a better-ranked copy of the same normalized text (content
hash) takes the article's id and the one kept so far becomes its duplicates row:
an id keeps naming one text, and a page with another text never takes an
article's place; an alias carrying a near (not identical) copy of a page's text is
stored as an article of the page's story, whichever arrives first. Articles from earlier runs are never
displaced; the only column a later run changes on them is `story_id`, when a
new article joins their story to another.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from itemadapter import ItemAdapter

from pipelines.archive.database import next_article_id, open_archive
from pipelines.archive.shared import SharedArchive, SharedField, shared_archive
from pipelines.outcomes.commit_units import UNIT_COMMITTED, commits_in_units
from pipelines.outcomes.counters import drop
from pipelines.outcomes.write_failure import WRITE_ERRORS, failed
from pipelines.outcomes.write_failure import report as report_write_failure
from pipelines.similarity.near_duplicates import (
    DEFAULT_THRESHOLD,
    Signature,
    open_index,
    signature,
)
from pipelines.similarity.urls import (
    canonical_url,
    check_fold,
    fold_key,
    fold_url,
    is_own_address,
)
from pipelines.text.dates import utc_sort_key

logger = logging.getLogger(__name__)
# Articles whose near-duplicate index rows are written in one transaction. The rows' keys are random
# hashes (32 band keys and ~75 sampled shingle counts a text), so a write dirties about min(keys,
# B-tree leaves) pages: small batches in a big index write a page a key, and the cost a document grows
# with the archive (bench/dedup/README.md, "Cost per document"). A killed run's unwritten rows are
# written by the next run's open_index (they are derived from the stored articles).
INDEX_BATCH = 2000


class DedupPipeline:
    next_id = SharedField()  # one id sequence per archive (pipelines/archive/shared.py)

    def __init__(self, crawler, db_path: str, threshold: float = DEFAULT_THRESHOLD, batch_size: int = 50,
                 refresh: bool = False, shared: SharedArchive | None = None, index_batch: int = INDEX_BATCH):
        self.crawler = crawler
        # with `shared`, every source's DedupPipeline of this process uses the same maps, index and ids,
        # so a copy across sources is decided as within one run
        self.shared = shared
        self.state = SimpleNamespace(users=0)
        self.other_seen: list[tuple[frozenset[str], ByHash]] = []  # the other folds' `seen` maps
        self.refresh = refresh  # archived pages are fetched again: an article whose text changed is an edit
        self.db_path = db_path
        self.threshold = threshold
        self.batch_size = batch_size
        self.index_batch = max(1, index_batch)
        self.fold: frozenset[str] = frozenset()
        self.fetched: ByHash = ByHash()  # URLs fetched in this run → article id
        self.archived: ArchivedKeys | None = None  # earlier runs' URLs, URL keys and content hashes, looked up
        self.seen: ByHash = ByHash()  # URL keys met in this run → article id
        self.hashes: ByHash = ByHash()  # content hashes stored in this run → article id
        self.next_id = 1
        self.kept_this_run: dict[int, tuple] = {}  # article id → (rank, content hash) of the copy kept in this run
        self.db = None
        self.near = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("ARSHIF_DB"),
            settings.getfloat("ARSHIF_NEAR_DUPLICATE_THRESHOLD", DEFAULT_THRESHOLD),
            settings.getint("ARSHIF_BATCH_SIZE", 50),
            settings.getbool("ARSHIF_REFRESH"),
            shared_archive(settings.get("ARSHIF_DB")),
            settings.getint("ARSHIF_NEAR_INDEX_BATCH", INDEX_BATCH),
        )
        crawler.signals.connect(pipeline.unit_committed, signal=UNIT_COMMITTED)
        return pipeline

    def open_spider(self, spider=None):
        source = getattr(self.crawler.spider, "source", None)
        self.fold = check_fold(getattr(source, "url_fold", ()))
        if self.shared is not None:
            return self._open_shared()
        self.db = open_archive(self.db_path)
        self.next_id = next_article_id(self.db)
        self.archived = ArchivedKeys(self.db, self.fold, self.next_id)
        if self.threshold > 0:
            try:
                self.near = open_index(self.db, self.threshold, batch_size=self.index_batch)
            except WRITE_ERRORS as exc:  # the disk filled in the open's repair or catch-up: the run fails, as in a batch
                _give_up_transaction(self.db)
                report_write_failure(self.crawler, exc, "near-duplicate index")
                return
            if commits_in_units(self.crawler):  # written when its unit is committed, never before: a kill leaves no orphans
                self.near.batch_size = 1 << 62

    def unit_committed(self, spider=None):
        """The spider's unit is in the archive (pipelines/outcomes/commit_units.py): from here on its articles
        are decided on as a later run decides on an earlier run's. None is displaced by a better-ranked copy
        (that copy becomes their duplicate), their signatures are written, their verified pairs become stories,
        and the shingles and buckets that became template so far apply from the next unit on: what a killed
        import's rerun meets."""
        self.kept_this_run.clear()
        if self.near is None:
            return
        from pipelines.similarity.stories import resolve_stories

        try:
            self.near.flush()
            resolve_stories(self.db)  # the unit's pairs, decided as a run's end decides them (a rerun meets the same)
            self.near.next_generation()
        except WRITE_ERRORS as exc:  # the unit is committed; the next run's open_index indexes what is missing
            report_write_failure(self.crawler, exc, "near-duplicate index")

    def _open_shared(self) -> None:
        """Join the archive's one dedup memory; the first source opens it, with a key map per url_fold in use."""
        self.state, made = self.shared.part("dedup")
        state = self.state
        if made:
            state.db = open_archive(self.db_path)
            state.next_id = state.first_id = next_article_id(state.db)
            first = ArchivedKeys(state.db, self.fold, state.first_id)
            state.last_duplicate = first.last_duplicate  # earlier runs' rows: the same snapshot for every fold
            state.fetched, state.hashes = ByHash(), ByHash()  # this run's; earlier runs' are looked up
            state.archived, state.seen = {self.fold: first}, {}
            for fold in self.shared.folds - {self.fold}:  # every url_fold of the run's sources
                state.archived[fold] = ArchivedKeys(state.db, fold, state.first_id, state.last_duplicate)
            state.kept_this_run = {}
            state.near, state.open_failed = None, None
            if self.threshold > 0:
                self._open_shared_index(state)
        elif state.open_failed is not None:  # the index every source shares did not open: no source crawls without it
            exc, opener = state.open_failed
            report_write_failure(self.crawler, exc, f"near-duplicate index (opened for {opener})")
        if self.fold not in state.archived:  # a fold the runner did not announce: earlier runs' rows, as for the others
            state.archived[self.fold] = ArchivedKeys(state.db, self.fold, state.first_id, state.last_duplicate)
        state.users += 1
        for fold in state.archived:
            state.seen.setdefault(fold, ByHash())
        self.db, self.near, self.fetched, self.hashes = state.db, state.near, state.fetched, state.hashes
        self.archived, self.seen = state.archived[self.fold], state.seen[self.fold]
        self.kept_this_run = state.kept_this_run
        self.other_seen = [(fold, seen) for fold, seen in state.seen.items() if fold != self.fold]

    def _open_shared_index(self, state) -> None:
        """Open the index for every source of the run; when the disk fills in the open's repair or catch-up, this
        source's crawl fails as in a batch, and each source joining later fails with it (`open_failed`)."""
        try:
            state.near = open_index(state.db, self.threshold, batch_size=self.index_batch)
        except Exception as exc:
            state.open_failed = (exc, getattr(self.crawler.spider, "source_name", None) or "another source")
            _give_up_transaction(state.db)
            if not isinstance(exc, WRITE_ERRORS):
                raise
            report_write_failure(self.crawler, exc, "near-duplicate index")

    def close_spider(self, spider=None):
        self.state.users -= 1
        last = self.state.users <= 0
        if self.near is not None:
            stats = self.crawler.stats
            stats.set_value("arshif/near_candidates", self.near.candidates_checked)  # proposed by LSH
            stats.set_value("arshif/near_estimate_only", self.near.estimate_only)  # MinHash said yes, exact Jaccard no
            stats.set_value("arshif/near_buckets_skipped", self.near.buckets_skipped)  # over-full LSH buckets
            if last:
                try:
                    self.near.close()
                except WRITE_ERRORS as exc:  # the disk is full: the next run's open_index writes what is missing
                    _give_up_transaction(self.db)
                    if not failed(self.crawler):  # else the run's cause is logged already: no line more
                        report_write_failure(self.crawler, exc, "near-duplicate index")
            self.near = None
        if self.db is not None:
            if last:
                self.db.close()
            self.db = None

    def process_item(self, item):
        page = ItemAdapter(item)
        record = page["record"]
        url, canonical = record["url"], record["canonical_url"]
        url_key, canonical_key = self._key(url), self._fold(canonical)
        archived = self.fetched.get(url)
        if archived is None:
            archived = self.archived.fetched(url)
        if archived is not None:
            refetched = self._refetched(page) if self.refresh else None
            if refetched == "edit":
                return item
            if refetched != "new":
                raise drop(self.crawler, "already_archived", f"{url} is archived (article {archived})")
        else:  # (a duplicate's URL with a new text is not its article's alias any more: it is stored below)
            original = next((found for key in (url_key, canonical_key) for found in (self.archived.key(key), self.seen.get(key))
                             if found is not None), None)
            if original is not None and self._copy_of(record, original):
                return self._duplicate(page, url_key, original)
            original = self._by_hash(record["content_hash"]) if record["content_hash"] else None
            if original is not None:
                return self._duplicate(page, url_key, original)
        sig = _signature(record) if self.near is not None else None
        record["id"] = self.next_id
        self.next_id += 1
        record["story_id"], record["story_match"], record["story_similarity"] = record["id"], None, None
        self._remember(record, url_key, record["id"])
        if sig is not None:
            if self.near.propose(record["id"], sig):
                self.crawler.stats.inc_value("arshif/near_pairs")
            self.near.add(record["id"], sig)
        return item

    def _by_hash(self, digest: str) -> int | None:
        """The article with this normalized text: an earlier run's first, else this run's."""
        found = self.archived.content(digest)
        return found if found is not None else self.hashes.get(digest)

    def _refetched(self, page) -> str | None:
        """An archived URL fetched again (`--refresh`, `arshif merge`): "edit" when it is an article's own URL
        and its text changed (pipelines.archive.database keeps the other text as a `versions` row: the text
        it had, or, for a fetch older than the article's, this one, placed before it); "new" when it is a
        duplicates row's URL that now carries a text the archive does not hold (stored as an article of its
        own, the duplicates row staying as the record of what it was); None when nothing is new."""
        record = page["record"]
        digest = record["content_hash"]
        row = self.db.execute("SELECT id, content_hash, fetched_at FROM articles WHERE url = ?", [record["url"]]).fetchone()
        if not digest or (row is not None and row[1] == digest):
            return None
        if row is None:  # a duplicates row's URL (or an article of this run not written yet: `arshif merge` writes and asks again)
            if not self.db.execute("SELECT 1 FROM duplicates WHERE url = ?", [record["url"]]).fetchone():
                return None
            if self._by_hash(digest) is not None or self.db.execute(
                    "SELECT 1 FROM versions v JOIN duplicates d ON d.duplicate_of = v.article_id"
                    " WHERE d.url = ? AND v.content_hash = ?", [record["url"], digest]).fetchone():
                return None  # a text the archive holds
            return "new"
        record["id"] = row[0]
        if row[2] and record.get("fetched_at") and record["fetched_at"] < row[2]:
            # an older fetch than the article's (`arshif merge` meeting a shard's earlier copy): a version, once
            if self.db.execute("SELECT 1 FROM versions WHERE article_id = ? AND content_hash = ?", [row[0], digest]).fetchone():
                return None
            page["edit"] = "earlier"
            return "edit"
        page["edit"] = True
        self.hashes.setdefault(digest, row[0])
        if self.near is not None:
            self.near.replace(row[0], _signature(record))
        return "edit"

    # -- exact copies and URL aliases ----------------------------------------------

    def _duplicate(self, page, url_key: str, original: int):
        record = page["record"]
        kept = self.kept_this_run.get(original)
        if kept and record["content_hash"] == kept[1] and self._rank(record) < kept[0]:
            # only the same text takes an article's place (an id always names one text): the copy kept so far
            # becomes the duplicate, its kind from its own rank (at home or not)
            record["id"] = original
            record["story_id"], record["story_match"], record["story_similarity"] = original, None, None
            page["replaces"] = {"kind": _kind(not kept[0][2], kept[1], record["content_hash"]), "similarity": 1.0}
            self._remember(record, url_key, original)
            return page.item
        text = kept[1] if kept else self._archived_hash(original)
        page["duplicate"] = {"of": original, "kind": _kind(self._at_home(record), record["content_hash"], text),
                             "similarity": 1.0}
        self.fetched[record["url"]] = original
        self.seen[url_key] = original
        self.seen.setdefault(self._fold(record["canonical_url"]), original)
        self._seen_by_other_folds(record, original, article=False)
        return page.item

    def _copy_of(self, record: dict, article_id: int) -> bool:
        """A page found by its address (folded URL or declared canonical) is that article's alias only if it
        carries the article's text (content hash). Any other text, a near copy included (an AMP page's
        slightly different extraction), goes on to the content-hash and near-duplicate steps like any page:
        stored, and in the article's story if it is a near copy. Deciding near aliases here would depend on
        which of the two pages arrived first; a CMS declaring one canonical for every page loses nothing."""
        kept = self.kept_this_run.get(article_id)
        return record["content_hash"] == (kept[1] if kept else self._archived_hash(article_id))

    def _archived_hash(self, article_id: int) -> str | None:
        row = self.db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()
        return row[0] if row else None

    def _remember(self, record: dict, url_key: str, article_id: int) -> None:
        self.kept_this_run[article_id] = (self._rank(record), record["content_hash"])
        self.fetched[record["url"]] = article_id
        self.seen[url_key] = self.seen[self._fold(record["canonical_url"])] = article_id
        if record["content_hash"]:
            self.hashes.setdefault(record["content_hash"], article_id)
        self._seen_by_other_folds(record, article_id, article=True)

    def _seen_by_other_folds(self, record: dict, article_id: int, article: bool) -> None:
        """The keys another source of this `--all` run looks this page up by, folded as that source
        folds: what `ArchivedKeys` would give it in a later run (an article's URL and canonical URL,
        a duplicate's canonical URL)."""
        canonical = record["canonical_url"]
        for fold, seen in self.other_seen:
            if canonical:
                seen.setdefault(fold_url(canonical, fold) if fold else canonical, article_id)
            if article:  # ArchivedKeys: an article's own URL as fetched, folded
                seen.setdefault(fold_url(record["url"], fold) if fold else record["url"], article_id)

    def _rank(self, record: dict) -> tuple:
        """Which copy is the article, smallest first: decided by the page, not by when it arrived."""
        published = record.get("published")
        canonical = record["canonical_url"] or record["url"]
        return (published is None, utc_sort_key(published or ""), not self._at_home(record), self._fold(canonical),
                record["url"])

    def _at_home(self, record: dict) -> bool:
        """Fetched at its canonical address, not under an alias (tracking, AMP, mobile)."""
        return is_own_address(record["url"], record["canonical_url"], self.fold)

    def _key(self, url: str) -> str:
        return canonical_url(url, self.fold)

    def _fold(self, url: str) -> str:
        return fold_url(url, self.fold) if self.fold and url else url


def _kind(at_home: bool, text: str | None, article_text: str | None) -> str:
    """A copy's kind, from the page itself and the article's text, never from which page arrived first:
    `exact` for the article's normalized text at a page's own address, `url` for a page fetched under an
    alias (tracking parameters, AMP or host variant, a canonical address elsewhere) with that text."""
    return "exact" if at_home and text and text == article_text else "url"


def _signature(record: dict) -> Signature:
    """The worker's MinHash signature and shingle hashes of the text (pipelines/extraction/records.py),
    or computed here."""
    computed = record.get("fingerprints")
    if computed and computed.get("shingle_hashes") is not None:
        return Signature.from_bytes(computed["minhash"], computed["shingles"], computed.get("bands"),
                                    computed["shingle_hashes"])
    return signature(record["text"] or "")


class ByHash(dict):
    """A dict that keeps ``hash(key)`` instead of the key: the same lookups, ~70 B less per entry.

    DedupPipeline holds one entry per URL and per content hash of the whole archive;
    with the strings themselves that was most of the crawl's memory growth with a
    site's size. str hashes are 64-bit SipHash with a per-process key, so the odds
    of two of a million keys colliding are about 1 in 3.7e7, and nobody can make
    two URLs collide on purpose.
    """

    def __getitem__(self, key):
        return super().__getitem__(hash(key))

    def __setitem__(self, key, value):
        super().__setitem__(hash(key), value)

    def __contains__(self, key) -> bool:
        return super().__contains__(hash(key))

    def get(self, key, default=None):
        return super().get(hash(key), default)

    def setdefault(self, key, default=None):
        return super().setdefault(hash(key), default)


class ArchivedKeys:
    """What dedup asks the archive of earlier runs, one indexed look-up at a time (nothing loaded at open).

    ``fetched(url)``: the article a fetched URL is (a duplicates row's article
    when both tables have it); ``key(k)``: the first article whose canonical URL
    or URL has the key ``k`` (canonical URLs folded as the source's ``url_fold``
    says), else the article of the first duplicates row whose canonical URL has
    it; ``content(hash)``: the first article with this content hash. Only rows
    that existed when the run opened are read (articles below the run's first id,
    duplicates up to the last id then): this run's own are in the pipeline's dicts.
    The unique indexes on articles.url and duplicates.url, the indexes on
    canonical_url (m001, m070) and content_hash (m001) serve them.

    A source with a ``url_fold`` folds the archived URLs too: its key's candidates
    are the rows with that very URL (the same indexes) and the rows whose URL
    folded with every fold is the key's (``url_fold_keys``, m120), each checked
    by folding its URLs as the source does. Nothing is read at open either.
    """

    def __init__(self, db, fold: frozenset[str], next_id: int, last_duplicate: int | None = None):
        self.db = db
        self.fold = fold
        self.next_id = next_id
        if last_duplicate is None:
            last_duplicate = db.execute("SELECT COALESCE(MAX(id), 0) FROM duplicates").fetchone()[0]
        self.last_duplicate = last_duplicate

    def fetched(self, url: str) -> int | None:
        row = self.db.execute("SELECT duplicate_of FROM duplicates WHERE url = ? AND id <= ?", [url, self.last_duplicate]).fetchone()
        if row is None:
            row = self.db.execute("SELECT id FROM articles WHERE url = ? AND id < ?", [url, self.next_id]).fetchone()
        return row[0] if row else None

    def key(self, key: str) -> int | None:
        row = self.db.execute(
            "SELECT MIN(id) FROM articles WHERE (canonical_url = ? OR url = ?) AND id < ?", [key, key, self.next_id]
        ).fetchone()
        found = [row[0]] if row[0] is not None else []
        if self.fold:
            found += [article_id for article_id, url, canonical in self.db.execute(
                "SELECT a.id, a.url, a.canonical_url FROM url_fold_keys f JOIN articles a ON a.id = f.row_id"
                " WHERE f.key = ? AND f.kind = 0 AND f.row_id < ?", [fold_key(key) or key, self.next_id])
                if self._folds_to(key, url, canonical)]
        if found:
            return min(found)
        row = self.db.execute(
            "SELECT id, duplicate_of FROM duplicates WHERE canonical_url = ? AND id <= ? ORDER BY id LIMIT 1",
            [key, self.last_duplicate],
        ).fetchone()
        duplicates = [tuple(row)] if row else []
        if self.fold:
            duplicates += [(row_id, article_id) for row_id, article_id, canonical in self.db.execute(
                "SELECT d.id, d.duplicate_of, d.canonical_url FROM url_fold_keys f JOIN duplicates d ON d.id = f.row_id"
                " WHERE f.key = ? AND f.kind = 1 AND f.row_id <= ?", [fold_key(key) or key, self.last_duplicate])
                if self._folds_to(key, canonical)]
        return min(duplicates)[1] if duplicates else None

    def content(self, digest: str) -> int | None:
        row = self.db.execute("SELECT MIN(id) FROM articles WHERE content_hash = ? AND id < ?", [digest, self.next_id]).fetchone()
        return row[0]

    def _folds_to(self, key: str, *urls: str | None) -> bool:
        """One of these archived URLs is `key` once folded as this source folds (url_fold_keys only proposes)."""
        return any(url and fold_url(url, self.fold) == key for url in urls)


def _give_up_transaction(db) -> None:
    """A COMMIT that failed for want of room leaves its transaction open, holding the write lock: roll it back."""
    if db.conn.in_transaction:
        try:
            db.conn.rollback()
        except WRITE_ERRORS:
            pass
