"""Load and validate source definitions from `seeds/*.toml`.

A source file is data, never code: it is parsed with tomllib and checked key by
key, so a typo fails loudly with the file and the key instead of silently
crawling the wrong thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler.source_checks import date_problem, domain_problem, matches, pattern_problem, selector_problem, url_problem
from pipelines.similarity.urls import FOLDS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class SourceError(ValueError):
    """A source file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Limits:
    max_pages: int = 0  # 0: no limit
    max_depth: int = 3
    newer_than: str | None = None  # ISO date; older articles are not stored


@dataclass(frozen=True)
class Source:
    name: str
    site_url: str
    language: str = "ar"
    title: str = ""
    start_urls: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_allow: tuple[str, ...] = ()
    article_deny: tuple[str, ...] = ()
    follow_allow: tuple[str, ...] = ()
    prune_selectors: tuple[str, ...] = ()
    url_fold: tuple[str, ...] = ()  # URL variants of one page: "www", "mobile", "amp" (pipelines/similarity/urls.py)
    allow_loopback: bool = False  # 127.0.0.0/8 and ::1: the demo and the tests
    allow_private_addresses: bool = False  # private, link-local and reserved ranges
    discover_sitemaps: bool = True  # read `Sitemap:` lines in robots.txt when no sitemaps are given
    scheduled: bool = True  # false: `crawl --all` leaves it out (the demo, a test site): run by name only
    checked_live: bool = False
    notes: str = ""
    limits: Limits = field(default_factory=Limits)
    path: str = ""
    digest: str = ""  # hash of the file's bytes: a failed page is retried when it changes

    def is_article_url(self, url: str) -> bool:
        """An article candidate: matches an allow pattern (or there are none) and no deny."""
        if any(matches(p, url) for p in self.article_deny):
            return False
        if not self.article_allow:
            return True
        return any(matches(p, url) for p in self.article_allow)

    def is_followable(self, url: str) -> bool:
        """A listing page worth following for links (pagination, sections)."""
        if any(matches(p, url) for p in self.article_deny):
            return False
        if not self.follow_allow:
            return True
        return any(matches(p, url) for p in self.follow_allow)


_LIST_KEYS = {
    "start_urls",
    "sitemaps",
    "feeds",
    "allowed_domains",
    "article_allow",
    "article_deny",
    "follow_allow",
    "prune_selectors",
    "url_fold",
}
_STR_KEYS = {"name", "site_url", "language", "title", "notes"}
_BOOL_KEYS = {"allow_loopback", "allow_private_addresses", "checked_live", "discover_sitemaps", "scheduled"}
_REGEX_KEYS = {"article_allow", "article_deny", "follow_allow"}
_ITEM_CHECKS = {  # each item of these lists: None or what is wrong with it (crawler/source_checks.py)
    **{key: pattern_problem for key in _REGEX_KEYS},
    **{key: url_problem for key in ("start_urls", "sitemaps", "feeds")},
    "prune_selectors": selector_problem,
    "allowed_domains": domain_problem,
}
_LIMIT_KEYS = {"max_pages": int, "max_depth": int, "newer_than": str}


def _fail(path: str, key: str, message: str) -> SourceError:
    return SourceError(f"{path}: {key}: {message}")


def parse_source(data: dict, path: str = "<source>") -> Source:
    """Validate a parsed TOML table and build a Source."""
    known = _LIST_KEYS | _STR_KEYS | _BOOL_KEYS | {"limits"}
    for key in data:
        if key not in known:
            raise _fail(path, key, f"unknown key (known: {', '.join(sorted(known))})")
    for key in ("name", "site_url"):
        if key not in data:
            raise _fail(path, key, "missing required key")
    values: dict = {}
    for key in _STR_KEYS & data.keys():
        if not isinstance(data[key], str):
            raise _fail(path, key, "must be a string")
        values[key] = data[key]
    if not _NAME_RE.match(values["name"]):
        raise _fail(path, "name", "use lower-case letters, digits, '-' and '_'")
    for key in _BOOL_KEYS & data.keys():
        if not isinstance(data[key], bool):
            raise _fail(path, key, "must be true or false")
        values[key] = data[key]
    for key in _LIST_KEYS & data.keys():
        items = data[key]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise _fail(path, key, "must be a list of strings")
        checker = _ITEM_CHECKS.get(key)
        for item in items if checker else ():
            problem = checker(item)
            if problem:
                raise _fail(path, key, problem)
        values[key] = tuple(items)
    unknown_folds = set(values.get("url_fold", ())) - FOLDS
    if unknown_folds:
        raise _fail(path, "url_fold", f"unknown {sorted(unknown_folds)} (known: {', '.join(sorted(FOLDS))})")
    limits = data.get("limits", {})
    if not isinstance(limits, dict):
        raise _fail(path, "limits", "must be a table")
    for key, value in limits.items():
        expected = _LIMIT_KEYS.get(key)
        if expected is None:
            raise _fail(path, f"limits.{key}", "unknown key")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise _fail(path, f"limits.{key}", f"must be {expected.__name__}")
        if expected is int and value < 0:
            raise _fail(path, f"limits.{key}", f"must be 0 or more, not {value}")
        if key == "newer_than" and date_problem(value):
            raise _fail(path, f"limits.{key}", date_problem(value))
    values["limits"] = Limits(**limits)
    if not (values.get("start_urls") or values.get("sitemaps") or values.get("feeds")):
        raise _fail(path, "start_urls", "missing start point: give start_urls, sitemaps or feeds")
    if url_problem(values["site_url"]):
        raise _fail(path, "site_url", url_problem(values["site_url"]))
    return Source(path=path, **values)


def load_source(name_or_path: str, seeds_dir: Path | None = None) -> Source:
    """Load a source by name (`seeds/<name>.toml`) or by path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix != ".toml":
        candidate = (seeds_dir or SEEDS_DIR) / f"{name_or_path}.toml"
    if not candidate.is_file():
        known = ", ".join(s.stem for s in sorted((seeds_dir or SEEDS_DIR).glob("*.toml")))
        raise SourceError(f"{name_or_path}: no such source (known: {known})")
    from dataclasses import replace
    from hashlib import sha256

    try:
        raw = candidate.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise SourceError(f"{candidate}: cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{candidate}: not valid TOML: {exc}") from None
    return replace(parse_source(data, str(candidate)), digest=sha256(raw).hexdigest()[:16])


def rebase(source: Source, origin: str) -> Source:
    """Point a source at another origin (the demo site on whatever port it got)."""
    from dataclasses import replace

    old = source.site_url.rstrip("/")
    new = origin.rstrip("/")

    def sub(items: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new + i[len(old):] if i.startswith(old) else i for i in items)

    host = urlsplit(new).hostname or ""
    return replace(
        source,
        site_url=new + "/",
        start_urls=sub(source.start_urls),
        sitemaps=sub(source.sitemaps),
        feeds=sub(source.feeds),
        allowed_domains=tuple({*source.allowed_domains, host}),
    )


def all_sources(seeds_dir: Path | None = None) -> list[Source]:
    return [load_source(str(p)) for p in sorted((seeds_dir or SEEDS_DIR).glob("*.toml"))]


def scheduled_files(seeds_dir: Path | None = None) -> tuple[list[Path], list[Path]]:
    """The source files `crawl --all` runs and those it leaves out (`scheduled = false`: the demo,
    a test site), read without validating (a file that does not parse is run, so its error is reported)."""
    run, left_out = [], []
    for path in sorted((seeds_dir or SEEDS_DIR).glob("*.toml")):
        try:
            with open(path, "rb") as handle:
                scheduled = tomllib.load(handle).get("scheduled", True)
        except (OSError, ValueError):  # unreadable, not TOML, not UTF-8 (a windows-1256 file): reported when run
            scheduled = True
        (left_out if scheduled is False else run).append(path)
    return run, left_out
