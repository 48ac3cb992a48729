"""Read web archives Arshif did not write (CC-NEWS, wget, Browsertrix, Heritrix): WARC/ARC, gzipped or not.

Plain warcio, no Scrapy: `arshif import` (crawler/spiders/import_.py) turns each HTML
page this yields into a PageItem for the crawl's own pipelines. Everything here is
bounded: a payload is never read or decoded past `max_size` (the crawl's
DOWNLOAD_MAXSIZE), a damaged record is skipped by finding the next record start
(gzip member or `WARC/` line) after it, and the revisit index holds at most
REVISIT_INDEX_MAX digests. What was skipped, and why, is counted in `ImportCounts`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipelines.archive.warc import BodyTooLarge, _within

REVISIT_INDEX_MAX = 200_000  # payload digests of earlier HTML responses a revisit may point at (~100 B each)
RESYNC_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b\x08"
_RECORD_START = re.compile(rb"(?:^|\n)(?:WARC/1\.[01]\r?\n|https?://\S+ \d{1,3}(?:\.\d{1,3}){3} \d{14} )")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_WARC_TYPES = ("warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")
_SINGLE_HEADERS = ("warc-type", "warc-record-id", "warc-date", "content-length")  # once per record (WARC 1.1)
# Arabic script in UTF-8: U+0600-077F (lead bytes D8-DD), U+08A0-08FF (E0 A2/A3), presentation forms U+FB50-FEFF
_UTF8_ARABIC = re.compile(rb"[\xd8-\xdd][\x80-\xbf]|\xe0[\xa2\xa3][\x80-\xbf]|\xef[\xad-\xbb][\x80-\xbf]")
# ... as HTML character references: &#1536;-&#1791; (and around), &#x600;-&#x8ff;, &#xfb50;-&#xfeff;
_ENTITY_ARABIC = re.compile(rb"&#(?:0*1[5-9]\d\d;|0*6[4-5]\d{3};|x0*[6-8][0-9a-f]{2};|x0*f[b-e][0-9a-f]{2};)", re.IGNORECASE)
_LEGACY_ARABIC_CHARSET = re.compile(rb"charset\s*=\s*[\"']?\s*(?:windows-1256|cp1256|x-cp1256|iso-8859-6|iso_8859-6|cp720|"
                                    rb"ibm864|cp864|x-mac-arabic|asmo-708|arabic)", re.IGNORECASE)
ARABIC_SCRIPT_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ckb", "ku", "sd", "ug"})


def may_be_arabic_script(body: bytes, content_type: str | None = None, prefix: int = 64 * 1024) -> bool:
    """False only for a page with no Arabic letter in any form the extraction could decode it from.

    The cheap test before parsing: Arabic letters in UTF-8 or as character references
    in the first `prefix` bytes (nearly every Arabic page has them in its <title>),
    else anywhere in the page; a page in a legacy Arabic charset (windows-1256,
    ISO-8859-6), in UTF-16, or whose bytes are not UTF-8 at all is left to the full
    path. bench/import checks that it drops no page the full path keeps as Arabic.
    """
    head = body[:prefix]
    if _UTF8_ARABIC.search(head) or _ENTITY_ARABIC.search(head):
        return True
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:1024]:
        return True  # UTF-16
    if _LEGACY_ARABIC_CHARSET.search(head) or _LEGACY_ARABIC_CHARSET.search((content_type or "").encode("latin-1", "replace")):
        return True
    if len(body) > prefix and (_UTF8_ARABIC.search(body, prefix - 4) or _ENTITY_ARABIC.search(body, prefix - 16)):
        return True
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True  # some 8-bit charset the page may declare anywhere: let the extraction decide
    return False


@dataclass
class ImportedPage:
    """An HTML response of status 200 read from a web archive, its body content-decoded."""

    url: str
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes
    date: str  # the record's WARC-Date
    offset: int  # of the record in its file
    length: int
    record_id: str | None
    content_type: str | None


class ImportCounts(Counter):
    """What reading a file saw: `records`, `pages` (HTML 200 yielded), and each reason a record was skipped."""


def read_pages(path: str | Path, counts: ImportCounts, max_size: int, since: str | None = None,
               pre_check=None, skip_url=None, on_record=None):
    """The HTML 200 responses (and revisits of them the file holds) of one WARC/ARC file, in file order.

    `pre_check(body, content_type)` false: counted `pre_check_rejected`, not yielded. `skip_url(url)`
    true: counted `already_imported`. `on_record(offset)` is called after each record (progress).
    """
    path = Path(path)
    size = path.stat().st_size
    revisits: dict[str, int] = {}
    with open(path, "rb") as stream, open(path, "rb") as probe:
        head = stream.read(64)
        gzipped = head.startswith(_GZIP_MAGIC)
        plain_warc = not gzipped and not head.lstrip().startswith(b"filedesc://")  # records follow WARC/ lines
        position = 0
        while position < size:
            stream.seek(position)
            iterator = _QuietIterator(stream, arc2warc=True, ensure_http_headers=False,
                                      check_digests=plain_warc)  # only _whole asks, only there
            end = position
            try:
                for record in iterator:
                    errors = iterator.err_count
                    seen = ImportCounts()  # what this record is, counted only once it is known to be whole
                    page, digest = _page(record, seen, max_size, since, pre_check, skip_url, revisits, path)
                    offset = iterator.get_record_offset()  # reads the record to its end: after its payload
                    counts["records"] += 1
                    out_of_step = iterator.err_count > errors or (gzipped and not _member_ended(iterator))
                    if plain_warc and not out_of_step:
                        probe.seek(offset)
                        out_of_step = probe.read(5) != b"WARC/"  # an ARC line, to warcio: bytes inside a record
                    ran_on = False
                    if plain_warc and iterator.next_line and not iterator.next_line.startswith(b"WARC/"):
                        # no record's first line after its blank lines: it ran on into the next record (cut
                        # short, it took its Content-Length from those bytes), or the next record is damaged
                        probe.seek(offset + iterator.get_record_length())
                        ran_on = not _whole(record, probe.read(4))
                    cut = _why_cut(record, out_of_step or ran_on)
                    if cut:
                        # Counted once, under `cut`, whatever its cut headers looked like (not HTTP, no date); what
                        # follows is read from the next record start, not from where warcio stopped (inside a
                        # payload or the next record, which would count it again). Never before the last good
                        # record's end: a record spanning a cut member has an offset before it
                        counts[cut] += 1
                        end = position = _next_record_start(stream, max(offset, end) + 1, gzipped, size)
                        if on_record is not None:
                            on_record(end)
                        break
                    counts.update(seen)
                    record_end = offset + iterator.get_record_length()
                    end = max(end, record_end)  # only forward, whatever warcio says of a record after a cut member
                    if digest and len(revisits) < REVISIT_INDEX_MAX:  # a later revisit may stand for this page
                        revisits[digest] = offset
                    if page is not None:
                        page.offset, page.length = offset, record_end - offset
                        counts["pages"] += 1
                        yield page
                    if on_record is not None:
                        on_record(end)
                else:
                    if end < size and _has_data(stream, end, size):
                        raise EOFError("the file ends inside a record")
                    return
            except GeneratorExit:
                raise
            except Exception:  # noqa: BLE001  (zlib, warcio, EOF: a damaged record, whatever warcio calls it)
                counts["damaged"] += 1
                position = _next_record_start(stream, end + 1, gzipped, size)
                if position - end <= 8:  # only the blank lines after the last good record: the damaged one's own start
                    stream.seek(end)
                    if not stream.read(position - end).strip():
                        position = _next_record_start(stream, position + 1, gzipped, size)
                if on_record is not None:
                    on_record(position)


def _member_ended(iterator) -> bool:
    """The record's gzip member reached its end (and its CRC matched). A member cut short ends nowhere: zlib
    reads the next members' bytes as more of it (what it makes of them can even fill the record's
    Content-Length) until the file ends, and warcio reports no error at the end of a file. No decompressor at
    all: warcio took bytes that start no member for an uncompressed file (an ARC line, to it) and read them as is."""
    decompressor = getattr(iterator.reader, "decompressor", None)
    return decompressor is not None and getattr(decompressor, "eof", True)


def _whole(record, after: bytes) -> bool:
    """Whether a record followed by no record's first line is whole (the next record is what is damaged).
    Its block digest decides when it has one (warcio checks it as the record is read); without one, the
    blank lines WARC puts after every record must follow its block."""
    checker = getattr(record, "digest_checker", None)
    if checker is not None and checker.passed is not None:
        return checker.passed
    return after == b"\r\n\r\n"


def _why_cut(record, out_of_step: bool) -> str | None:
    """Why a record read to its end is not whole, as the count it goes under; None when it is whole.

    - `damaged`: headers cut short, which warcio reads without an error: no known WARC-Type (none, or
      "respo"), no Content-Length, or WARC-Type, WARC-Record-ID, WARC-Date or Content-Length twice (two
      records' headers run together).
    - `wrong_length`: fewer bytes than its Content-Length, or more; or read out of step with the file (its
      gzip member never ended, it did not start on a record's first line, or it ran on into the next record).
    A digest decides nothing on its own (tools disagree on what a payload digest covers, and warcio has
    rewritten blocks it copied): it is asked only when what follows a record is no record's first line.
    """
    if record.rec_type not in _WARC_TYPES:
        return "damaged"
    if record.format == "warc" and record.rec_headers.get_header("Content-Length") is None:
        return "damaged"  # mandatory in WARC; arc2warc records carry the ARC line's length
    names = [name.lower() for name, _ in record.rec_headers.headers]
    if any(names.count(name) > 1 for name in _SINGLE_HEADERS):
        return "damaged"
    if getattr(record.raw_stream, "limit", 0) > 0 or out_of_step:
        return "wrong_length"
    return None


class _QuietIterator(ArchiveIterator):
    """warcio's iterator without its stderr warning per bad record (it prints the record's bytes: a hostile
    file's escape sequences on the operator's terminal). The record is counted in ImportCounts instead."""

    INC_RECORD = ""


def _no_record_bytes(record: logging.LogRecord) -> bool:
    """The same for warcio's log warning of a target URI with spaces: in a cut record, that "URI" is raw bytes."""
    return not str(record.msg).startswith("Replacing spaces in invalid WARC-Target-URI")


logging.getLogger("warcio.recordloader").addFilter(_no_record_bytes)


def _has_data(stream, start: int, size: int) -> bool:
    """Anything but padding (NULs, blank lines) after `start`: a record warcio dropped silently."""
    stream.seek(start)
    while (chunk := stream.read(RESYNC_CHUNK)):
        if chunk.strip(b"\r\n\x00 \t"):
            return True
    return False


def _next_record_start(stream, start: int, gzipped: bool, size: int) -> int:
    """Where the next record may begin: a gzip member header (gzipped files) or a `WARC/1.x` / ARC line."""
    position = start
    while position < size:
        stream.seek(position)
        chunk = stream.read(RESYNC_CHUNK + 64)
        if not chunk:
            break
        if gzipped:
            found = chunk.find(_GZIP_MAGIC)
            if found >= 0:
                return position + found
        else:
            match = _RECORD_START.search(chunk)
            if match:
                return position + match.start() + (1 if chunk[match.start():match.start() + 1] == b"\n" else 0)
        position += RESYNC_CHUNK
    return size


def normal_warc_date(raw: str | None) -> str | None:
    """A record's WARC-Date as UTC `YYYY-MM-DDTHH:MM:SSZ` (the form Arshif writes and compares as text), or None.

    WARC allows W3C-DTF: a bare date, minutes only, fractions of a second, an offset
    (`+03:00`). Other tools write all of these; each is read and turned to UTC, so one
    odd record neither stops an import nor stores a time that sorts wrongly."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # WARC-Date is UTC by definition
    if not 1990 <= moment.year <= 9999:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page(record, counts, max_size, since, pre_check, skip_url, revisits, path):
    """(the record's ImportedPage or None, its payload digest if it is an HTML 200 response a revisit may name)."""
    kind = record.rec_type
    if kind not in ("response", "revisit"):
        counts[f"{kind or 'unknown'}_records"] += 1
        return None, None
    if record.http_headers is None or not record.http_headers.protocol.upper().startswith("HTTP"):
        counts["not_http"] += 1
        return None, None
    date = normal_warc_date(record.rec_headers.get_header("WARC-Date"))
    if date is None:  # the archive's times are compared as text: a date that cannot be read is no date to store
        counts["bad_date"] += 1
        return None, None
    if since and date[: len(since)] < since:
        counts["before_since"] += 1
        return None, None
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    if not url.startswith(("http://", "https://")):
        counts["no_http_url"] += 1
        return None, None
    digest = record.rec_headers.get_header("WARC-Payload-Digest")
    headers, status_line = record.http_headers.headers, record.http_headers.statusline
    if kind == "revisit":
        original = revisits.get(digest or "")
        if original is None:
            counts["revisit_unresolved"] += 1
            return None, None
        found = _original(path, original, max_size)
        if found is None:
            counts["revisit_unresolved"] += 1
            return None, None
        headers, status_line, body, status = found
        counts["revisit_resolved"] += 1
    else:
        status = _status(status_line)
    content_type = _header(headers, "content-type")
    if status != 200:
        counts["not_200"] += 1
        return None, None
    if not (content_type or "").split(";")[0].strip().lower() in _HTML_TYPES:
        counts["not_html"] += 1
        return None, None
    indexable = digest if kind == "response" else None  # a later revisit may stand for this page
    if skip_url is not None and skip_url(url):
        counts["already_imported"] += 1
        return None, indexable
    if kind == "response":
        body = _payload(record, max_size)
        if body is None:
            counts["too_large"] += 1
            return None, indexable
    page = None
    if pre_check is None or pre_check(body, content_type):
        kept = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")]
        page = ImportedPage(url, status_line, kept, body, date, 0, 0, record.rec_headers.get_header("WARC-Record-ID"),
                            content_type)
    else:
        counts["pre_check_rejected"] += 1
    return page, indexable


def _payload(record, max_size: int) -> bytes | None:
    """The HTTP body, chunking and Content-Encoding undone (warcio), never past max_size: None above it."""
    try:
        stream = record.content_stream()
        data = stream.read(max_size + 1) if max_size else stream.read()
        return bytes(_within(data, max_size))
    except BodyTooLarge:
        return None
    except Exception:  # noqa: BLE001  (a Content-Encoding that does not decode: the bytes as stored)
        raw = record.raw_stream.read(max_size + 1) if max_size else record.raw_stream.read()
        return None if max_size and len(raw) > max_size else raw


def _original(path: Path, offset: int, max_size: int):
    """(headers, status line, body, status) of the response record at `offset`: what a revisit stands for."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        for record in ArchiveIterator(stream, arc2warc=True):
            body = _payload(record, max_size)
            if body is None or record.http_headers is None:
                return None
            return record.http_headers.headers, record.http_headers.statusline, body, _status(record.http_headers.statusline)
    return None


def _status(status_line: str) -> int:
    try:
        return int(status_line.split(" ", 1)[0])
    except ValueError:
        return 0


def _header(headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def imported_paths(db_path: str | Path) -> frozenset[str]:
    """The local files `arshif import` read into this archive (rows of `--no-copy` imports name them)."""
    import json

    rows = _read_only(db_path, "SELECT import_files FROM crawls WHERE kind = 'import'")
    return frozenset(entry["path"] for (files,) in rows for entry in json.loads(files or "[]")
                     if Path(entry.get("path", "")).is_absolute())


def changed_imports(db_path: str | Path) -> dict[str, str]:
    """Original files of `--no-copy` imports that are no longer what was imported (path → why): replaying
    them would rewrite archived articles from other bytes. A file is the one imported when its size and
    sha256 are those an import of it recorded (`crawls.import_files`)."""
    import json

    recorded: dict[str, set[tuple[int, str]]] = {}
    for (files,) in _read_only(db_path, "SELECT import_files FROM crawls WHERE kind = 'import'"):
        for entry in json.loads(files or "[]"):
            if Path(entry.get("path", "")).is_absolute() and entry.get("sha256"):
                recorded.setdefault(entry["path"], set()).add((entry.get("size"), entry["sha256"]))
    changed = {}
    for path, identities in recorded.items():
        try:
            size = Path(path).stat().st_size
        except OSError as exc:
            changed[path] = f"cannot be read: {exc.strerror or exc}"
            continue
        if all(size != known_size for known_size, _ in identities):
            changed[path] = f"changed since it was imported (size {size:,} B, imported {sorted(s for s, _ in identities)})"
        elif file_digest(path) not in {digest for _, digest in identities}:
            changed[path] = "changed since it was imported (its sha256 differs)"
    return changed


def uncopied_pages(db_path: str | Path) -> list[tuple[str, str, str, int, int]]:
    """(url, source, file, offset, length) of the article pages `--no-copy` imports left in their original files:
    what `arshif reextract` replays from there, in file order."""
    paths = imported_paths(db_path)
    if not paths:
        return []
    marks = ",".join("?" * len(paths))
    return _read_only(db_path, "SELECT url, source, warc_file, warc_offset, warc_length FROM pages"
                               f" WHERE role = 'article' AND warc_file IN ({marks}) ORDER BY warc_file, warc_offset",
                      sorted(paths))


def _read_only(db_path: str | Path, query: str, params=()) -> list[tuple]:
    import sqlite3

    try:
        with sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True) as connection:
            return connection.execute(query, params).fetchall()
    except sqlite3.Error:  # no archive, or one from before imports
        return []


def format_problem(path: str | Path) -> str | None:
    """Why the file is not a WARC or ARC file at all (empty; uncompressed and not starting with a
    `WARC/` or ARC `filedesc://` header), or None. A gzip file passes: its members are checked one by
    one as they are read, so a damaged first member is skipped and counted like any other."""
    with open(path, "rb") as handle:
        start = handle.read(64)
    if not start:
        return "is empty"
    if start[:2] == b"\x1f\x8b":
        return None
    head = start.lstrip(b"\r\n")
    if head.startswith((b"WARC/", b"filedesc://")):
        return None
    shown = head[:24].decode("utf-8", "replace").replace("\n", " ").replace("\r", " ")
    return f"is not a WARC or ARC file (it starts with {shown!r}, not 'WARC/' or 'filedesc://', and is not gzipped)"


def file_digest(path: str | Path) -> str:
    """sha256 of the file: its identity in the `crawls` row."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(RESYNC_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, target: Path, max_bytes: int = 0, progress=None) -> None:
    """Stream `url` to `target` in 1 MB chunks (never whole in memory); `max_bytes` > 0 caps it."""
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "Arshif-import"})
    written = 0
    with urllib.request.urlopen(request, timeout=60) as response, open(target, "wb") as out:
        while chunk := response.read(RESYNC_CHUNK):
            written += len(chunk)
            if max_bytes and written > max_bytes:
                raise ValueError(f"{url} is larger than {max_bytes} bytes")
            out.write(chunk)
            if progress is not None:
                progress(written)


__all__ = ["ImportCounts", "ImportedPage", "download", "file_digest", "imported_paths", "may_be_arabic_script", "read_pages",
           "uncopied_pages"]
