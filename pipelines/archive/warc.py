"""Raw pages in gzipped WARC files, so the archive can be re-extracted offline.

Plain warcio, no Scrapy: the crawl writes through `WarcWriter`, `arshif
reextract` reads back with `iter_responses`. Each record is its own gzip
member, so (file, offset, length) addresses one record for replay tools, and
each file gets a CDXJ index of its responses when it is closed.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import logging
import os
import re
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import surt
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import iso_date_to_timestamp
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

ROLE_HEADER = "WARC-Arshif-Role"  # article, listing, sitemap, feed, robots
SOURCE_HEADER = "WARC-Arshif-Source"
DEFAULT_MAX_SIZE = 100 * 1024 * 1024
# zlib level of each record's gzip member. warcio uses 9: 0.81 ms of the reactor's CPU per
# 22 KB news page; 6 takes 0.58 ms for files 1% larger, 1 takes 0.24 ms for 21% larger.
DEFAULT_GZIP_LEVEL = 6


@dataclass(frozen=True)
class WarcRef:
    file: str  # path relative to the WARC folder
    offset: int
    length: int
    date: str = ""  # the response record's WARC-Date
    digest: str | None = None  # its WARC-Payload-Digest ("sha1:<base32>")


def warc_date(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _GzipMember:
    """One gzip member per record, as warcio's GzippingWrapper writes it, at a chosen level."""

    def __init__(self, out, level: int):
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


class _LeveledWARCWriter(WARCWriter):
    """warcio's WARCWriter with the gzip level as a parameter (warcio fixes it at 9)."""

    def __init__(self, filebuf, level: int):
        super().__init__(filebuf, gzip=True)
        self.level = level

    def _write_warc_record(self, out, record):
        self.gzip = False  # the member below compresses; warcio flushes it at the record's end
        try:
            return super()._write_warc_record(_GzipMember(out, self.level), record)
        finally:
            self.gzip = True


class WarcWriter:
    """Append request/response pairs to rotating `.warc.gz` files in one folder."""

    def __init__(self, folder: str | Path, prefix: str = "arshif", max_size: int = DEFAULT_MAX_SIZE, software: str = "Arshif",
                 gzip_level: int = DEFAULT_GZIP_LEVEL):
        self.gzip_level = gzip_level
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_size = max_size
        self.software = software
        self._file = None
        self._name: str | None = None
        self._writer: WARCWriter | None = None
        self._index: list[str] = []  # CDXJ lines of the open file, unsorted
        self._lock = threading.RLock()  # the WARC thread writes other pages while the crawl appends built ones
        self._failed: OSError | None = None  # a write failed: every later append raises it again

    def _open(self) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
        self._serial = getattr(self, "_serial", 0) + 1
        self._name = f"{self.prefix}-{stamp}-{os.getpid()}-{self._serial:05d}.warc.gz"
        self._file = open(self.folder / self._name, "ab")
        self._writer = _LeveledWARCWriter(self._file, self.gzip_level)
        info = self._writer.create_warcinfo_record(
            self._name, {"software": self.software, "format": "WARC File Format 1.1", "robots": "obey"}
        )
        self._writer.write_record(info)
        self._file.flush()

    def _rotate_if_needed(self) -> None:
        if self._file is None:
            self._open()
        elif self._file.tell() >= self.max_size:
            self.close()
            self._open()

    def append(self, built: BuiltExchange) -> WarcRef:
        """Append an exchange built by `build_exchange` (here or in an extraction worker)."""
        with self._lock:
            if self._failed is not None:
                raise self._failed  # the crawl is stopping: the same cause, not one new file (and log line) per page
            try:
                self._rotate_if_needed()
                offset = self._file.tell()
                self._file.write(built.data)
                self._file.flush()
                self._check_in_place()
            except OSError as exc:
                self._failed = exc
                raise
            self._index.append(built.index_head + _cdxj_tail(offset, self._name))
            return WarcRef(self._name, offset, built.response_length, built.date, built.digest)

    def _check_in_place(self) -> None:
        """Rows must not point at a file that is no longer there: writes to a deleted file succeed."""
        path = self.folder / self._name
        try:
            here = os.stat(path)
        except FileNotFoundError:
            here = None
        held = os.fstat(self._file.fileno())
        if here is None or (here.st_ino, here.st_dev) != (held.st_ino, held.st_dev):
            raise WarcGone(errno.ENOENT, "the WARC file was deleted or moved while the crawl wrote it", str(path))

    def write_exchange(self, url: str, status_line: str, headers: list[tuple[str, str]], body: bytes, **exchange) -> WarcRef:
        """Build the exchange's records (see `build_exchange`) and append them."""
        return self.append(build_exchange(url, status_line, headers, body, gzip_level=self.gzip_level, **exchange))

    def close(self) -> None:
        """Close the open file and write its CDXJ index beside it. The writer is closed even when the
        index cannot be written (a read-only or full disk): no later append meets a closed file."""
        with self._lock:
            if self._file is not None:
                handle, path, index = self._file, self.folder / self._name, self._index
                self._file = self._writer = None
                self._index = []
                handle.close()
                try:
                    write_index(path, index)
                except OSError as exc:
                    self._failed = exc
                    raise


@dataclass(frozen=True)
class BuiltExchange:
    """A response (or revisit) record and its request record as gzip members, ready to append.

    Built where the page's bytes already are: the crawl's extraction worker builds
    the records of article pages, so compressing and digesting them costs the
    crawl process nothing; the crawl only appends the bytes.
    """

    data: bytes
    response_length: int  # the response record's bytes, at the start of `data`
    date: str
    digest: str | None
    index_head: str  # the CDXJ line up to its offset and filename


def build_exchange(
    url: str,
    status_line: str,
    headers: list[tuple[str, str]],
    body: bytes,
    request_method: str = "GET",
    request_headers: list[tuple[str, str]] | None = None,
    protocol: str = "HTTP/1.1",
    extra: dict[str, str] | None = None,
    revisit_of: tuple[str, str, str] | None = None,
    date: str | None = None,
    gzip_level: int = DEFAULT_GZIP_LEVEL,
) -> BuiltExchange:
    """The response record (or a revisit of an earlier one), then its request.

    `revisit_of` is (original URL, original WARC-Date, original payload digest);
    `date` is the WARC-Date of both (default: now).
    """
    date = date or warc_date()
    out = io.BytesIO()
    writer = _LeveledWARCWriter(out, gzip_level)
    path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
    request = writer.create_warc_record(
        url,
        "request",
        payload=io.BytesIO(b""),
        http_headers=StatusAndHeaders(f"{request_method} /{path} {protocol}", request_headers or [], is_http_request=True),
        warc_headers_dict={"WARC-Date": date},
    )
    http_headers = StatusAndHeaders(status_line, headers, protocol=protocol)
    warc_headers = {"WARC-Date": date, **(extra or {})}
    if revisit_of:
        refers_to_uri, refers_to_date, digest = revisit_of
        response = writer.create_revisit_record(
            url, digest=digest, refers_to_uri=refers_to_uri, refers_to_date=refers_to_date, http_headers=http_headers
        )
        for key, value in warc_headers.items():
            response.rec_headers.replace_header(key, value)
    else:
        response = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http_headers, warc_headers_dict=warc_headers
        )
    writer.write_record(response)
    length = out.tell()
    writer.write_record(request)
    return BuiltExchange(
        out.getvalue(), length, date, response.rec_headers.get_header("WARC-Payload-Digest"), _cdxj_head(response, length)
    )


class WarcGone(FileNotFoundError):
    """The WARC file being written was deleted or moved (its folder removed mid-crawl)."""


class BodyTooLarge(ValueError):
    """A stored body that decodes to more than the size limit (a gzip bomb the crawl refused)."""


def decoded_body(body: bytes, content_encoding: str | None, max_size: int = 0) -> bytes:
    """The body as the page's bytes: undo gzip/deflate/br as received on the wire.

    With `max_size` (the crawl's DOWNLOAD_MAXSIZE) no more than that is ever decompressed:
    BodyTooLarge instead, as the crawl refuses such a page while it downloads it.
    """
    encoding = (content_encoding or "").lower().strip()
    try:
        if encoding in ("gzip", "x-gzip"):
            return _inflate(body, 16 + zlib.MAX_WBITS, max_size)
        if encoding == "deflate":
            try:
                return _inflate(body, zlib.MAX_WBITS, max_size)
            except zlib.error:
                return _inflate(body, -zlib.MAX_WBITS, max_size)
        if encoding == "br":
            import brotli

            decoded = brotli.Decompressor().process(body, output_buffer_limit=max_size + 1) if max_size else brotli.decompress(body)
            return _within(decoded, max_size)
    except (OSError, zlib.error, EOFError, getattr(gzip, "BadGzipFile", OSError)):
        return body
    except Exception as exc:  # brotli.error
        if type(exc).__module__.startswith("brotli"):
            return body
        raise
    return _within(body, max_size)


def _inflate(body: bytes, wbits: int, max_size: int) -> bytes:
    """zlib in steps, never holding more than max_size + 1 bytes of output; gzip members one after another."""
    out = bytearray()
    decompressor = zlib.decompressobj(wbits)
    data = body
    while data:
        out += decompressor.decompress(data, max_size - len(out) + 1 if max_size else 0)
        _within(out, max_size)
        data = decompressor.unconsumed_tail
        if decompressor.eof:
            data = decompressor.unused_data
            if not data or wbits <= 16:
                break
            decompressor = zlib.decompressobj(wbits)  # the next gzip member
    if not decompressor.eof and wbits > 16:
        raise EOFError("truncated gzip body")
    return bytes(out)


def _within(data, max_size: int):
    if max_size and len(data) > max_size:
        raise BodyTooLarge(f"the body decodes to more than {max_size} bytes")
    return data


@dataclass
class StoredResponse:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes | None  # content-decoded; None when it would pass the size limit (too_large)
    date: str
    role: str | None
    source: str | None
    ref: WarcRef


def _placed_records(path: Path, stream, kinds: tuple[str, ...], with_payload: bool, max_size: int = 0):
    """(record, payload or None, WarcRef) for the file's records of these kinds, in file order.
    A payload over `max_size` bytes is None."""
    iterator = ArchiveIterator(stream)
    for record in iterator:
        if record.rec_type not in kinds:
            continue
        payload = (record.content_stream().read(max_size + 1) if max_size else record.content_stream().read()) if with_payload else None
        if payload is not None and max_size and len(payload) > max_size:
            payload = None
        offset = iterator.get_record_offset()
        iterator.read_to_end(record)
        yield record, payload, WarcRef(path.name, offset, iterator.get_record_length())


def unreadable_reason(path: str | Path, chunk: int = 1 << 20) -> str | None:
    """Why this WARC file cannot be read to its end (None: every gzip member is complete and valid).

    warcio stops silently at a file cut short (a record half written, a copy that ended early):
    each member is inflated here and must end where the next begins, up to the last byte.
    """
    try:
        with open(path, "rb") as stream:
            inflater, position, member_start = zlib.decompressobj(31), 0, 0
            pending = b""
            while True:
                data = pending or stream.read(chunk)
                pending = b""
                if not data:
                    break
                try:
                    inflater.decompress(data)
                except zlib.error as exc:
                    return f"corrupt gzip data in the record starting at byte {member_start}: {exc}"
                if inflater.eof:
                    used = len(data) - len(inflater.unused_data)
                    position += used
                    pending = inflater.unused_data
                    inflater, member_start = zlib.decompressobj(31), position
                else:
                    position += len(data)
            if position > member_start:
                return f"cut short: the record starting at byte {member_start} ends with the file at byte {position}"
    except OSError as exc:
        return f"cannot be read: {exc}"
    return None


def iter_responses(folder: str | Path, max_size: int = 0, only: str | None = None):
    """Every response record in the folder's WARC files, oldest file first.

    `max_size`: a body that is, or decodes to, more than this many bytes is not read or
    decoded past it; its StoredResponse has body None. `only`: this one file of the folder.
    """
    for path in sorted(Path(folder).glob("*.warc.gz")):
        if only is not None and path.name != only:
            continue
        with open(path, "rb") as stream:
            for record, raw, ref in _placed_records(path, stream, ("response",), with_payload=True, max_size=max_size):
                yield _stored(record, raw, ref, max_size)


def _stored(record, raw: bytes | None, ref: WarcRef, max_size: int = 0) -> StoredResponse:
    """A response record as a StoredResponse; body None where it is, or decodes to, over max_size."""
    headers = {k.lower(): v for k, v in record.http_headers.headers} if record.http_headers else {}
    try:
        body = None if raw is None else decoded_body(raw, headers.get("content-encoding"), max_size)
    except BodyTooLarge:
        body = None
    return StoredResponse(
        url=record.rec_headers.get_header("WARC-Target-URI"),
        status=int(record.http_headers.get_statuscode() or 0),
        headers=headers,
        body=body,
        date=record.rec_headers.get_header("WARC-Date"),
        role=record.rec_headers.get_header(ROLE_HEADER),
        source=record.rec_headers.get_header(SOURCE_HEADER),
        ref=ref,
    )


MAX_RECORD_BYTES = 64 * 1024 * 1024  # no stored page's record is larger (DOWNLOAD_MAXSIZE is 10 MB)


def read_response(folder: str | Path, name: str, offset: int, length: int,
                  imported: frozenset[str] = frozenset()) -> StoredResponse | None:
    """The response record at (file, offset, length) in the WARC folder, or None.

    `name` must be a file directly in `folder` (no path parts): an archive row cannot make
    the reader open anything else. The one exception is `imported`: the absolute paths of
    the files the operator imported with `arshif import --no-copy` (the `crawls` rows'
    `import_files`), whose rows name the original file.
    """
    if name and name in imported:
        return _read_at(Path(name), name, offset, length)
    if not name or Path(name).name != name or name.startswith(".") or not name.endswith(".warc.gz"):
        return None
    return _read_at(Path(folder) / name, name, offset, length)


def _read_at(path: Path, name: str, offset: int, length: int) -> StoredResponse | None:
    if offset is None or length is None or offset < 0 or not 0 < length <= MAX_RECORD_BYTES:
        return None
    try:
        with open(path, "rb") as stream:
            stream.seek(offset)
            chunk = stream.read(length)
    except OSError:
        return None
    try:
        for record, raw, ref in _placed_records(path, io.BytesIO(chunk), ("response",), with_payload=True,
                                                max_size=MAX_RECORD_BYTES):
            return _stored(record, raw, WarcRef(name, offset + ref.offset, ref.length), MAX_RECORD_BYTES)
    except Exception:  # a damaged record: nothing to show  # noqa: BLE001
        return None
    return None


_MIME_END = re.compile(r"[;\s]")


def cdxj_line(record, offset: int, length: int, filename: str) -> str:
    """The line cdxj-indexer writes for a response or revisit record. The crawl makes it from
    each record as it builds it: indexing a file at close would read and decompress every
    record again (0.2 ms a page)."""
    return _cdxj_head(record, length) + _cdxj_tail(offset, filename)


def _cdxj_head(record, length: int) -> str:
    """The line up to the record's place: its JSON without the closing brace (offset and
    filename are cdxj-indexer's last two keys, known only when the record is appended)."""
    url = record.rec_headers.get_header("WARC-Target-URI")
    try:
        urlkey = surt.surt(url)
    except Exception:  # cdxj-indexer's fallback too
        urlkey = url
    if record.rec_type == "revisit":
        mime = "warc/revisit"
    else:
        mime = record.http_headers.get_header("Content-Type")
        if mime:
            mime = _MIME_END.split(mime, 1)[0].strip()
    fields = {
        "url": url,
        "mime": mime,
        "status": record.http_headers.get_statuscode() if record.http_headers else None,
        "digest": record.rec_headers.get_header("WARC-Payload-Digest"),
        "length": str(length),
    }
    index = {key: value for key, value in fields.items() if value is not None}
    timestamp = iso_date_to_timestamp(record.rec_headers.get_header("WARC-Date"))
    return f"{urlkey} {timestamp} {json.dumps(index)[:-1]}"


def _cdxj_tail(offset: int, filename: str) -> str:
    return f', "offset": "{offset}", "filename": {json.dumps(filename)}}}\n'


def cdxj_path(warc_path: str | Path) -> Path:
    warc_path = Path(warc_path)
    return warc_path.with_name(warc_path.name[: -len(".warc.gz")] + ".cdxj")


def write_index(warc_path: Path, lines: list[str]) -> None:
    """The file's CDXJ index, its lines sorted (in place). Written beside it under a hidden name and renamed
    into place: a full disk or a kill mid-write leaves no `.cdxj` (which the next run writes), never a cut one
    (which it would take for done)."""
    lines.sort()
    final = cdxj_path(warc_path)
    partial = final.with_name(f".{final.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as out:
            out.writelines(lines)  # not "".join: no second copy of a file's index at its peak
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
    except BaseException:
        try:
            partial.unlink(missing_ok=True)
        except OSError:  # a read-only folder: nothing was made there
            pass
        raise


def _indexed(path: Path) -> bool:
    """The WARC file has a whole CDXJ index: one is there, and is not cut short. An index cut by a full disk
    (as Arshif wrote them before `write_index` renamed into place) is empty or ends inside a line."""
    index = cdxj_path(path)
    try:
        with open(index, "rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            if size:
                stream.seek(size - 1)
                return stream.read(1) == b"\n"
    except FileNotFoundError:
        return False
    try:  # empty: right only for a file with no response (a kill right after its warcinfo record)
        with open(path, "rb") as stream:
            for _ in _placed_records(path, stream, ("response", "revisit"), with_payload=False):
                return False
    except Exception:  # noqa: BLE001  (a file broken from its first record has nothing to index)
        return True
    return True


def index_unindexed(folder: str | Path) -> list[Path]:
    """Write the CDXJ index of every WARC file in `folder` that has none, or a cut one: a crawl or an import
    killed before it closed its file (kill -9, power loss), or whose index write failed (a disk full or turned
    read-only) leaves one. Every crawl and every import calls this first. A record cut short by a kill ends the
    file's readable part; the index covers the records before it."""
    indexed = []
    for path in sorted(Path(folder).glob("*.warc.gz")):
        if _indexed(path):
            continue
        lines = []
        try:
            with open(path, "rb") as stream, open(path, "rb") as members:
                for record, _, ref in _placed_records(path, stream, ("response", "revisit"), with_payload=False):
                    members.seek(ref.offset)
                    gzip.decompress(members.read(ref.length))  # warcio reads a cut member without a word
                    lines.append(cdxj_line(record, ref.offset, ref.length, path.name))
        except Exception as exc:  # EOFError, zlib.error, warcio's own: a record cut short
            logger.warning("WARC file %s ends in a broken record (%s: %s); indexed the %d responses before it",
                           path.name, type(exc).__name__, exc, len(lines))
        write_index(path, lines)
        logger.info("Indexed %s, left without a whole CDXJ index by an interrupted or failed run", path.name)
        indexed.append(path)
    return indexed
