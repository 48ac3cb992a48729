"""Exports: datasette's CSV/JSON on every table and query, and `arshif export`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import tracemalloc

import pytest
import yaml
from sqlite_utils import Database

from crawler.cli import export as cmd_export
from crawler.cli.common import DATASETTE_DIR, PROJECT_DIR
from crawler.cli.main import build_parser, main
from tests.conftest import make_datasette

BOM = "\ufeff"






def _articles(db_path, where="1", params=()) -> list[dict]:
    with sqlite3.connect(db_path) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(r) for r in connection.execute(f"select * from articles where {where} order by id", params)]


# --- datasette ---------------------------------------------------------------------------


async def test_csv_and_json_of_every_table_and_query_keep_arabic(archive_db):
    ds = make_datasette(archive_db)
    metadata = yaml.safe_load((DATASETTE_DIR / "metadata.yaml").read_text(encoding="utf-8"))
    queries = metadata["databases"]["archive"]["queries"]
    tables = [t for t in await ds.databases["archive"].table_names() if not t.startswith("articles_fts")]
    paths = [f"/archive/{t}" for t in tables] + [f"/archive/{q}" for q in queries]
    titles = {row["title"] for row in _articles(archive_db)}
    for path in paths:
        params = {"q": "الارهاب"} if path.endswith("/search") else {}
        json_response = await ds.client.get(path + ".json", params={**params, "_shape": "array", "_size": "max"})
        assert json_response.status_code == 200, (path, json_response.text[:500])
        rows = json_response.json()
        csv_response = await ds.client.get(path + ".csv", params={**params, "_dl": "1", "_size": "max"})
        assert csv_response.status_code == 200, path
        assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment" in csv_response.headers["content-disposition"]
        text = csv_response.content.decode("utf-8")
        assert not text.startswith(BOM)
        records = list(csv.DictReader(io.StringIO(text)))
        assert len(records) == len(rows), path
        if path.endswith("/articles"):
            assert {r["title"] for r in records} == titles == {r["title"] for r in rows}
    search = (await ds.client.get("/archive/search.json", params={"q": "الارهاب", "_shape": "array"})).json()
    assert any("الإرهاب" in row["title"] for row in search)
    assert not any("<mark>" in row["title"] + row["snippet"] for row in search)  # exports carry plain text


async def test_bom_option_for_spreadsheets(archive_db):
    ds = make_datasette(archive_db)
    for path, params in (("/archive/articles.csv", {}), ("/archive/search.csv", {"q": "مؤتمر"})):
        plain = await ds.client.get(path, params=params)
        with_bom = await ds.client.get(path, params={**params, "_bom": "1", "_dl": "1"})
        assert with_bom.status_code == 200
        assert with_bom.content == "\ufeff".encode() + plain.content
        assert with_bom.content.decode("utf-8-sig") == plain.text
        if "content-length" in with_bom.headers:
            assert int(with_bom.headers["content-length"]) == len(with_bom.content)
    # Only CSV gets one.
    page = await ds.client.get("/archive/articles.json", params={"_bom": "1"})
    assert not page.content.startswith(b"\xef\xbb\xbf") and page.json()


async def test_full_table_stream_is_utf8(archive_db):
    ds = make_datasette(archive_db)
    response = await ds.client.get("/archive/articles.csv", params={"_stream": "1", "_size": "max", "_bom": "1"})
    records = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r["text"] for r in records) == sorted(a["text"] for a in _articles(archive_db))


# --- arshif export ---------------------------------------------------------------------------


def test_export_is_registered_with_an_example(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "--help"])
    help_text = capsys.readouterr().out
    assert "Example: arshif export" in help_text
    for option in ("--format", "--source", "--since", "--db", "--output", "--bom"):
        assert option in help_text
    assert "csv,jsonl,parquet" in help_text


def test_export_csv_matches_the_archive(archive_db, tmp_path, capsys):
    output = tmp_path / "out" / "articles.csv"
    assert main(["export", "--db", str(archive_db), "--output", str(output)]) == 0
    raw = output.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    records = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    articles = _articles(archive_db)
    assert [r["title"] for r in records] == [a["title"] for a in articles]
    assert [r["text"] for r in records] == [a["text"] for a in articles]  # newlines survive quoting
    assert list(records[0]) == list(articles[0])
    assert f"{len(articles)} articles written to {output}" in capsys.readouterr().err
    assert not list(output.parent.glob("*.part"))


def test_export_bom_and_filters(archive_db, tmp_path):
    output = tmp_path / "april.csv"
    assert main(["export", "--db", str(archive_db), "--bom", "--since", "2025-04-01", "--source", "demo",
                 "--output", str(output)]) == 0
    raw = output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    records = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    expected = _articles(archive_db, "source = 'demo' and published >= '2025-04-01'")
    assert 0 < len(records) == len(expected) < len(_articles(archive_db))
    assert all(r["published"] >= "2025-04-01" for r in records)
    assert main(["export", "--db", str(archive_db), "--source", "nowhere", "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8").count("\n") == 1  # the header only


def test_export_jsonl_to_stdout_in_a_real_process(archive_db):
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli.main", "export", "--format", "jsonl", "--db", str(archive_db)],
        cwd=PROJECT_DIR, capture_output=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode("utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows == _articles(archive_db)
    assert "الإرهاب" in result.stdout.decode("utf-8")  # not \u escapes


def test_export_parquet(archive_db, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    output = tmp_path / "archive.parquet"
    assert main(["export", "--format", "parquet", "--db", str(archive_db), "--output", str(output)]) == 0
    table = pq.read_table(output)
    articles = _articles(archive_db)
    assert table.num_rows == len(articles)
    assert table.column("title").to_pylist() == [a["title"] for a in articles]
    assert str(table.schema.field("id").type) == "int64"
    assert str(table.schema.field("language_prob").type) == "double"


def test_export_parquet_without_pyarrow_says_what_to_install(archive_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow → ImportError
    output = tmp_path / "archive.parquet"
    assert main(["export", "--format", "parquet", "--db", str(archive_db), "--output", str(output)]) == 2
    assert "pip install pyarrow" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "last week"], "is not a date"),
        (["--since", "2025/01/01"], "is not a date"),
        (["--format", "jsonl", "--bom"], "--bom applies to --format csv only"),
    ],
)
def test_export_refuses_bad_arguments(archive_db, tmp_path, capsys, args, message):
    output = tmp_path / "x.csv"
    assert main(["export", "--db", str(archive_db), "--output", str(output), *args]) == 2
    assert message in capsys.readouterr().err
    assert not output.exists()


def test_export_without_archive(tmp_path, capsys):
    assert main(["export", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no archive at" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()  # read-only: nothing created


def test_failed_export_leaves_no_file(archive_db, tmp_path, monkeypatch):
    def broken(cursor, stream, columns, bom=False):
        stream.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setitem(cmd_export.WRITERS, "csv", broken)
    output = tmp_path / "x.csv"
    with pytest.raises(RuntimeError):
        main(["export", "--db", str(archive_db), "--output", str(output)])
    assert not output.exists() and not (tmp_path / "x.csv.part").exists()


def test_export_never_writes_to_the_archive(archive_db, tmp_path):
    before = archive_db.read_bytes()
    assert main(["export", "--db", str(archive_db), "--output", str(tmp_path / "x.jsonl"), "--format", "jsonl"]) == 0
    assert archive_db.read_bytes() == before


def _synthetic_archive(path, rows: int):
    """An articles table of `rows` rows of ~4 KB (UTF-8) each."""
    db = Database(path)
    body = "نص المقال " * 200
    db["articles"].insert_all(
        ({"id": i, "url": f"https://example.org/{i}", "source": "big", "title": f"عنوان {i}",
          "published": "2025-01-01", "text": body} for i in range(1, rows + 1)),
        pk="id", batch_size=2000,
    )
    db.close()
    return path


@pytest.fixture(scope="module")
def archives_small_and_big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    return _synthetic_archive(folder / "small.db", 3_000), _synthetic_archive(folder / "big.db", 12_000)


def _peak(db_path, fmt, output) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = cmd_export.export(db_path, fmt, str(output))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_memory_does_not_grow_with_the_archive(archives_small_and_big, tmp_path, fmt):
    small, big = archives_small_and_big
    small_count, small_peak = _peak(small, fmt, tmp_path / f"small.{fmt}")
    big_count, big_peak = _peak(big, fmt, tmp_path / f"big.{fmt}")
    size = (tmp_path / f"big.{fmt}").stat().st_size
    assert (small_count, big_count) == (3_000, 12_000)
    assert size > 40_000_000
    # Four times the rows, about the same peak; and far less than the data (fetchall would hold it all).
    assert big_peak < small_peak * 1.3 + 1_000_000, (small_peak, big_peak)
    assert big_peak < size / 4, (big_peak, size)
