"""`arshif reextract` replays with the crawl's size limit: a gzip bomb in the WARC is counted, not
decompressed (issue 18, item 3)."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import zlib

import pytest
from sqlite_utils import Database

from pipelines.archive.warc import ROLE_HEADER, SOURCE_HEADER, BodyTooLarge, WarcWriter, decoded_body, iter_responses
from tests.conftest import copy_archive, run_arshif

BOMB_BYTES = 64 * 1024 * 1024  # decodes to 64 MB, over DOWNLOAD_MAXSIZE (10 MB); 64 KB on the wire


def _bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1024 * 1024)
    return b"".join(compressor.compress(chunk) for _ in range(BOMB_BYTES // len(chunk))) + compressor.flush()


def test_decoding_stops_at_the_limit():
    bomb = _bomb()
    assert len(bomb) < 200_000
    with pytest.raises(BodyTooLarge):
        decoded_body(bomb, "gzip", max_size=1024 * 1024)
    page = "<html>صفحة</html>".encode() * 100
    assert decoded_body(gzip.compress(page), "gzip", max_size=len(page)) == page
    assert decoded_body(gzip.compress(page) + gzip.compress(page), "gzip", max_size=0) == page * 2  # two members
    assert decoded_body(zlib.compress(page), "deflate", max_size=len(page)) == page
    assert decoded_body(b"not gzip", "gzip", max_size=10) == b"not gzip"  # as before: the bytes as stored


def test_reextract_counts_and_skips_a_gzip_bomb(demo_crawl, tmp_path):
    shutil.copytree(demo_crawl.db_path.parent / "warc", tmp_path / "warc")
    archive = copy_archive(demo_crawl.db_path, tmp_path / "archive.db")
    writer = WarcWriter(tmp_path / "warc", prefix="zz-bomb")
    ref = writer.write_exchange(
        "http://127.0.0.1:8642/articles/bomb.html", "200 OK",
        [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], _bomb(),
        extra={ROLE_HEADER: "article", SOURCE_HEADER: "demo"},
    )
    writer.close()
    with sqlite3.connect(archive) as conn:  # the crawl that received it keeps its page row (reextract replays only
        conn.execute(  # the files of this archive, not another's in the same folder)
            "INSERT INTO pages (url, source, role, status, outcome, warc_file, warc_offset, warc_length)"
            " VALUES (?, 'demo', 'article', 200, 'too_large', ?, ?, ?)",
            ["http://127.0.0.1:8642/articles/bomb.html", ref.file, ref.offset, ref.length])
    refused = [r.url for r in iter_responses(tmp_path / "warc", max_size=10 * 1024 * 1024) if r.body is None]
    assert refused == ["http://127.0.0.1:8642/articles/bomb.html"]
    rebuilt = tmp_path / "rebuilt.db"
    result = run_arshif("reextract", "--db", str(archive), "--warc", str(tmp_path / "warc"), "--into", str(rebuilt))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1 refused as larger than DOWNLOAD_MAXSIZE" in result.stdout
    assert Database(rebuilt)["articles"].count == demo_crawl.db["articles"].count
