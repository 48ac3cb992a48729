"""The web-archive reader on its own (pipelines/archive/warc_import.py): revisits, limits, the pre-check's edge cases."""

from __future__ import annotations

import gzip
import io

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.archive.warc_import import ImportCounts, may_be_arabic_script, read_pages

ARTICLE = "<html><head><title>خبر عاجل</title></head><body><p>نص الخبر</p></body></html>".encode()


def _response(writer, url: str, body: bytes, date: str = "2024-01-01T00:00:00Z", headers=(("Content-Type", "text/html"),)):
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                       http_headers=StatusAndHeaders("200 OK", list(headers), protocol="HTTP/1.1"),
                                       warc_headers_dict={"WARC-Date": date})
    writer.write_record(record)
    return record


def test_a_revisit_is_read_as_its_original_page_under_its_own_url(tmp_path):
    path = tmp_path / "dedup.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        original = _response(writer, "https://a.example/1", ARTICLE)
        revisit = writer.create_revisit_record(
            "https://a.example/1-again", digest=original.rec_headers.get_header("WARC-Payload-Digest"),
            refers_to_uri="https://a.example/1", refers_to_date="2024-01-01T00:00:00Z",
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"))
        writer.write_record(revisit)
        unknown = writer.create_revisit_record("https://a.example/gone", digest="sha1:AAAA", refers_to_uri="x",
                                               refers_to_date="2024-01-01T00:00:00Z",
                                               http_headers=StatusAndHeaders("200 OK", [], protocol="HTTP/1.1"))
        writer.write_record(unknown)
    counts = ImportCounts()
    pages = list(read_pages(path, counts, max_size=1 << 20))
    assert [(p.url, p.body) for p in pages] == [("https://a.example/1", ARTICLE), ("https://a.example/1-again", ARTICLE)]
    assert counts["revisit_resolved"] == 1 and counts["revisit_unresolved"] == 1


def test_bodies_are_content_decoded_and_never_read_past_the_limit(tmp_path):
    path = tmp_path / "sizes.warc"  # uncompressed WARC
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=False)
        _response(writer, "https://a.example/gz", gzip.compress(ARTICLE), headers=(("Content-Type", "text/html"),
                                                                                   ("Content-Encoding", "gzip")))
        _response(writer, "https://a.example/big", b"<p>" + b"x" * 5000 + b"</p>")
        _response(writer, "https://a.example/img", b"\x89PNG", headers=(("Content-Type", "image/png"),))
        _response(writer, "https://a.example/old", ARTICLE, date="2019-05-01T00:00:00Z")
    counts = ImportCounts()
    pages = list(read_pages(path, counts, max_size=1000, since="2020"))
    assert [(p.url, p.body) for p in pages] == [("https://a.example/gz", ARTICLE)]
    assert all(k.lower() != "content-encoding" for k, _ in pages[0].headers)  # the copy holds the decoded body
    assert (counts["too_large"], counts["not_html"], counts["before_since"]) == (1, 1, 1)


def test_the_pre_check_keeps_every_form_of_arabic_and_drops_plain_other_pages():
    assert may_be_arabic_script(ARTICLE)
    assert may_be_arabic_script("<title>خبر</title>".encode("cp1256"))  # not UTF-8: the extraction decides
    assert may_be_arabic_script(b'<meta charset="windows-1256"><p>ascii only so far</p>')
    assert may_be_arabic_script(b"<title>&#1582;&#1576;&#1585;</title>")  # character references
    assert may_be_arabic_script(b"<title>&#x62E;&#x628;&#x631;</title>")
    assert may_be_arabic_script("<title>خبر</title>".encode("utf-16"))
    late = b"<script>" + b"var a=1;" * 20000 + b"</script>" + "<p>نص عربي</p>".encode()
    assert len(late) > 64 * 1024 and may_be_arabic_script(late)  # Arabic only after the first 64 KB
    assert not may_be_arabic_script(b"<html><title>English news</title><p>Only English here.</p></html>")
    assert not may_be_arabic_script("<title>Nouvelles du monde, été</title>".encode())  # UTF-8 Latin
    assert not may_be_arabic_script("<title>Новости</title>".encode())  # Cyrillic


def test_a_seed_covers_its_hosts_and_other_hosts_are_sources_of_their_own():
    from crawler.sources import all_sources
    from crawler.spiders.import_ import SourcesByHost, host_source_name

    hosts = SourcesByHost(all_sources())
    assert hosts.seed("www.aljazeera.net").name == "aljazeera"
    assert hosts.seed("WWW.BBC.COM.").name == "bbcarabic"
    assert hosts.seed("aljazeera.com") is None and hosts.seed("notaljazeera.net") is None
    assert host_source_name("WWW.Almarsad-News.example.") == "almarsad-news.example"
    assert host_source_name("news.example.com") == "news.example.com"


def _triplets(gzipped: bool, seed: int) -> list[bytes]:
    """Three request/response/metadata triplets as CC-NEWS writes them. The record ids (uuid4, the only random
    bytes) come from `seed`, so every byte, and where a cut falls, is the same on every run."""
    import importlib

    cc_news = importlib.import_module("bench.import.cc_news")
    helpers = importlib.import_module("tests.test_import")
    with helpers.seeded_record_ids(seed):
        members = []
        for k in range(3):
            out = io.BytesIO()
            cc_news.write_record_triplet(WARCWriter(out, gzip=gzipped), f"https://a.example/{k}", ARTICLE,
                                         "2024-03-01T10:00:00Z")
            members.append(out.getvalue())
    return members


def _record_bounds(part: bytes) -> dict[str, tuple[int, int]]:
    """Each record of one triplet: (start, end of its block). Gzipped: its member; plain: before the blank lines."""
    from warcio.archiveiterator import ArchiveIterator

    iterator = ArchiveIterator(io.BytesIO(part), ensure_http_headers=False)
    bounds = {}
    for record in iterator:
        start = iterator.get_record_offset()
        bounds[record.rec_type] = (start, start + iterator.get_record_length())
    return bounds


@pytest.mark.parametrize("seeds", [range(3), pytest.param(range(3, 60), marks=pytest.mark.slow)], ids=["3", "57"])
def test_a_record_cut_at_any_byte_is_counted_once_and_never_read_cut(tmp_path, capfd, caplog, seeds):
    """Every cut position of the middle triplet (its request, response, metadata) and of the last one, gzipped
    or not, in files whose bytes are fixed by a seed (each seed moves the cuts against the compressed bytes).

    A cut page is never yielded (nor one whose Content-Length ran on into the next record); every whole page is
    read (a member cut short ran on through the rest of the file, or its bytes were read as an ARC record, and
    the pages after it were lost); no cut is counted twice (it was: not_http and wrong_length, or wrong_length
    and damaged); a cut page is counted once unless the cut leaves only its first line and first header's name
    (then it cannot be told from the next record); nothing of the cut bytes is printed or logged."""
    head = len(b"WARC/1.0\r\nWARC-Type:")
    for seed in seeds:
        for gzipped in (True, False):
            first, second, third = _triplets(gzipped, seed)
            blank_lines = 0 if gzipped else 4  # a plain record's end as warcio gives it is before "\r\n\r\n"
            for name, cut_part, kept in (("middle", 1, {0, 2}), ("end", 2, {0, 1})):
                part = (second, third)[cut_part - 1]
                response_start, response_end = _record_bounds(part)["response"]
                for cut in range(1, len(part)):
                    data = first + second[:cut] + third if name == "middle" else first + second + third[:cut]
                    path = tmp_path / "cut.warc"
                    path.write_bytes(data)
                    counts = ImportCounts()
                    pages = list(read_pages(path, counts, max_size=1 << 20))
                    where = (seed, gzipped, name, cut, dict(counts))
                    assert all(page.body == ARTICLE for page in pages), where
                    read = {int(page.url.rsplit("/", 1)[1]) for page in pages}
                    assert len(read) == len(pages) and kept <= read, where
                    skipped = sum(v for k, v in counts.items()
                                  if k not in ("records", "pages") and not k.endswith("_records"))
                    assert skipped <= 1, where
                    if cut >= response_end + blank_lines:
                        assert cut_part in read, where
                    elif cut < response_end:
                        assert cut_part not in read, where
                        if cut > response_start + head:
                            assert skipped == 1, where
    assert capfd.readouterr().err == ""
    assert not [r for r in caplog.records if r.name.startswith("warcio")]


def _without_digests(member: bytes) -> bytes:
    """An uncompressed triplet as a writer without digests leaves it (digests are optional in WARC)."""
    return b"".join(line for line in member.splitlines(keepends=True) if not line.startswith(b"WARC-Block-Digest")
                    and not line.startswith(b"WARC-Payload-Digest"))


def test_a_record_run_on_into_the_next_is_caught_without_digests_and_a_wrong_digest_alone_drops_nothing(tmp_path):
    """Structure decides: an uncompressed response cut anywhere in its block takes its Content-Length from the
    next record's bytes, and without digests to check it is still never yielded (what follows its blank lines is
    no record's first line) and is counted once. A block digest that does not match a record whose structure is
    whole (a writer's bug, or warcio's own when it copies records) drops nothing."""
    first, second, third = (_without_digests(member) for member in _triplets(False, seed=7))
    start, end = _record_bounds(second)["response"]
    block = second.index(b"\r\n\r\n", start) + 4  # the WARC headers' end: the block (HTTP message) starts here
    for cut in range(block + 1, end):
        path = tmp_path / "run-on.warc"
        path.write_bytes(first + second[:cut] + third)
        counts = ImportCounts()
        pages = list(read_pages(path, counts, max_size=1 << 20))
        assert sorted(page.url for page in pages) == ["https://a.example/0", "https://a.example/2"], (cut, dict(counts))
        assert all(page.body == ARTICLE for page in pages)
        assert counts["wrong_length"] + counts["damaged"] == 1 and counts["not_http"] == 0, (cut, dict(counts))

    first, second, third = _triplets(False, seed=7)
    digest = second.index(b"WARC-Block-Digest: sha1:", second.index(b"WARC-Type: response")) + len(b"WARC-Block-Digest: sha1:")
    wrong = second[:digest] + (b"A" if second[digest:digest + 1] != b"A" else b"B") + second[digest + 1:]
    path = tmp_path / "wrong-digest.warc"
    path.write_bytes(first + wrong + third)
    counts = ImportCounts()
    assert [page.url for page in read_pages(path, counts, max_size=1 << 20)] == [f"https://a.example/{k}" for k in range(3)]
    assert {k for k in counts if k not in ("records", "pages") and not k.endswith("_records")} == set(), dict(counts)


def test_any_cut_or_corruption_ends_the_read_and_yields_no_page_twice(tmp_path):
    """Reading only ever moves forward: a record after a cut gzip member can report an offset before the last
    good record, and resyncing there read the same records again, forever (seen on the damaged-members file)."""
    import random

    rng = random.Random(23)
    for gzipped in (True, False):
        whole = b"".join(_triplets(gzipped, seed=23) * 3)
        for trial in range(40):
            data = bytearray(whole)
            for _ in range(rng.randint(1, 3)):
                start = rng.randrange(len(data))
                if rng.random() < 0.5:
                    del data[start:start + rng.randint(1, 400)]  # a cut
                else:
                    data[start:start + 8] = bytes(rng.randrange(256) for _ in range(8))  # flipped bytes
            path = tmp_path / f"{gzipped}-{trial}.warc"
            path.write_bytes(bytes(data))
            positions = []
            pages = list(read_pages(path, ImportCounts(), max_size=1 << 20, on_record=positions.append))
            offsets = [page.offset for page in pages]
            assert offsets == sorted(set(offsets)), (gzipped, trial)
            assert len(pages) <= 9


def test_the_damaged_members_file_is_read_to_its_end_once(tmp_path):
    """The mix of tests/test_import.py's damaged-members test, on generated pages: it read in a loop once."""
    import importlib
    import os

    cc_news = importlib.import_module("bench.import.cc_news")
    helpers = importlib.import_module("tests.test_import")
    pages = [(url, "text/html; charset=utf-8", body) for url, body, _ in cc_news.arabic_pages(12, seed=2)]
    members = helpers.cc_news_members(pages)
    origin = "http://127.0.0.1:1"
    damage = [b"\x1f\x8b\x08\x00" + random_bytes(3000), members[3][: len(members[3]) // 2],
              helpers._bomb_member(f"{origin}/articles/bomb.html"), helpers._non_http_member(f"{origin}/articles/plain.html"),
              helpers._wrong_length_member(f"{origin}/articles/9001.html", pages[0][2]), b"\x00" * 10 + b"not a record\r\n\r\n"]
    mixed = []
    for k, member in enumerate(members):
        mixed.append(member)
        if k % 4 == 1 and damage:
            mixed.append(damage.pop(0))
    last = helpers.cc_news_members([(f"{origin}/articles/9002.html", "text/html", pages[0][2])])[0]
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(b"".join([*mixed, *damage, last[: len(last) // 2]]))
    counts = ImportCounts()
    urls = [page.url for page in read_pages(path, counts, max_size=10 << 20)]
    assert sorted(urls) == sorted({url for url, _, _ in pages}) and os.path.getsize(path) > 0
    assert counts["too_large"] == 1 and counts["damaged"] + counts["wrong_length"] == 4
    assert counts["not_http"] == 1  # the non-HTTP member only: a cut member is counted as cut, not read on


def random_bytes(count: int) -> bytes:
    import random

    return random.Random(5).randbytes(count)
