"""Tanween folding measured: precision and recall of the search forms on judged Arabic queries.

Each query has the forms an article may use for it (judged relevant: the word in the
query's sense, any inflection, clitic or tanween, or its adjective in the same sense,
the rule of datasette/README.md) and forms judged not relevant (other words that
share letters). Every form becomes a one-sentence document; each query is run
against all documents, with the light stemmer before the tanween rule and after it.
The figures are in datasette/README.md ("Tanween").
"""

from __future__ import annotations

import pytest

from pipelines.text import normalize
from pipelines.text.search_text import _stem, search_text

# query → (relevant forms, forms judged not relevant)
JUDGED = {
    "مؤتمر": (["مؤتمراً", "المؤتمر", "مؤتمرا", "مُؤْتَمَرٌ"], ["تآمر"]),
    "تهديد": (["تهديداً", "التهديد", "تهديدات", "تهديدا"], ["تحديداً"]),
    "اعتداء": (["اعتداءً", "الاعتداء", "اعتداءات"], ["اعتدال"]),
    "اتفاق": (["اتفاقاً", "الاتفاق", "اتفاقا"], ["إنفاق"]),
    "قرار": (["قراراً", "القرار", "قرارات"], ["إقرار"]),
    "بيان": (["بياناً", "البيان", "وبيان"], ["بنان"]),
    "هجوم": (["هجوماً", "الهجوم", "هجوما"], ["هموم"]),
    "اجتماع": (["اجتماعاً", "الاجتماع", "اجتماعات"], ["جماعة"]),
    "وفد": (["وفداً", "الوفد", "وفدا"], ["وقف"]),
    "تقرير": (["تقريراً", "التقرير", "تقارير"], ["تقدير"]),
    "دعم": (["دعماً", "الدعم", "دعما"], ["دمع"]),
    "مشروع": (["مشروعاً", "المشروع", "مشروعات"], ["شروع"]),
    "موقف": (["موقفاً", "الموقف", "موقفا"], ["توقف"]),
    "جديد": (["جديداً", "الجديد", "جديدة"], ["حديد"]),
    "رسمي": (["رسمياً", "الرسمي", "رسميا"], ["رسم"]),
    "كبير": (["كبيراً", "الكبير", "كبيرة"], ["كثير"]),
    "اقتراح": (["اقتراحاً", "الاقتراح", "اقتراحات"], ["اقتحام"]),
    "تحذير": (["تحذيراً", "التحذير", "تحذيرات"], ["تحرير"]),
    "انتقاد": (["انتقاداً", "الانتقاد", "انتقادات"], ["انتقال"]),
    "ارتفاع": (["ارتفاعاً", "الارتفاع", "ارتفاعا"], ["رفع"]),
    "انخفاض": (["انخفاضاً", "الانخفاض", "انخفاضا"], ["خفض"]),
    "قانون": (["قانوناً", "القانون", "قانونا"], ["كانون"]),
    "برنامج": (["برنامجاً", "البرنامج", "برامج"], ["بريد"]),
    "اتصال": (["اتصالاً", "الاتصال", "اتصالات"], ["انفصال"]),
    "طلب": (["طلباً", "الطلب", "طلبات"], ["طالب"]),
    "خطاب": (["خطاباً", "الخطاب", "خطابا"], ["خطأ"]),
    "حادث": (["حادثاً", "الحادث", "حادثة"], ["حديث"]),
    "مسؤول": (["مسؤولاً", "المسؤول", "مسؤولين"], ["سؤال"]),
    "شهر": (["شهراً", "الشهر", "شهرا"], ["شهير"]),
    "أسبوع": (["أسبوعاً", "الأسبوع", "أسبوعا"], ["أسباب"]),
    "تصريح": (["تصريحاً", "التصريح", "تصريحات"], ["صريح"]),
    "نجاح": (["نجاحاً", "النجاح", "نجاحا"], ["جناح"]),
    "أمريكا": (["أمريكا", "الأمريكي", "الأمريكية"], ["مريم"]),  # a final alef that is no tanween
    "سوريا": (["سوريا", "وسوريا"], ["سور"]),
    "كورونا": (["كورونا", "بكورونا"], ["كور"]),
    "منها": (["منها"], ["منه"]),  # -ها is a pronoun, never tanween
}
FILLER = "وأشار المصدر إلى أن {} جاء في وقت متأخر من الليل"


def _documents():
    docs = []
    for query, (relevant, other) in JUDGED.items():
        for form in relevant:
            docs.append((FILLER.format(form), query, True))
        for form in other:
            docs.append((FILLER.format(form), query, False))
    return docs


def _measure(stem_rule: bool, monkeypatch) -> tuple[int, int, int, dict]:
    with monkeypatch.context() as patch:
        if not stem_rule:
            patch.setattr(normalize, "_MIN_STEM_AFTER_TANWEEN", 10**6)
        _stem.__self__.clear()  # search_text's stem cache
        try:
            docs = [(set(search_text(text).split()), query, relevant) for text, query, relevant in _documents()]
            forms = {query: search_text(query).split() for query in JUDGED}
        finally:
            _stem.__self__.clear()
    retrieved = hits = relevant_total = 0
    per_query = {}
    for query in JUDGED:
        wanted = {i for i, (_, owner, relevant) in enumerate(docs) if owner == query and relevant}
        found = {i for i, (terms, _, _) in enumerate(docs) if all(term in terms for term in forms[query])}
        # a document judged for another query that uses this query's word in its sense is none here by construction
        per_query[query] = (len(found), len(found & wanted), len(wanted))
        retrieved += len(found)
        hits += len(found & wanted)
        relevant_total += len(wanted)
    return retrieved, hits, relevant_total, per_query


def test_at_least_thirty_judged_queries():
    assert len(JUDGED) >= 30


def test_tanween_folding_raises_recall_and_keeps_precision(monkeypatch):
    before = _measure(False, monkeypatch)
    after = _measure(True, monkeypatch)
    recall_before, recall_after = before[1] / before[2], after[1] / after[2]
    precision_before, precision_after = before[1] / before[0], after[1] / after[0]
    assert recall_after >= recall_before
    assert recall_after > recall_before  # tanween forms are found now
    assert precision_after >= 0.9
    documented = (
        f"| before | {before[0]} | {before[1]} | {before[2]} | {precision_before:.0%} | {recall_before:.0%} |",
        f"| after | {after[0]} | {after[1]} | {after[2]} | {precision_after:.0%} | {recall_after:.0%} |",
    )
    readme = (normalize.__file__.rsplit("/pipelines/", 1)[0] + "/datasette/README.md")
    text = open(readme, encoding="utf-8").read()
    for line in documented:
        assert line in text, line


@pytest.mark.parametrize("pair", [("تهديد", "تهديداً"), ("مؤتمر", "مؤتمراً"), ("مسؤول", "مسؤولاً")])
def test_plain_and_tanween_forms_share_a_search_form(pair):
    assert search_text(pair[0]) == search_text(pair[1])


def test_m031_rebuilds_an_older_archive_index_with_the_tanween_forms(tmp_path):
    import sqlite3

    from pipelines.archive.database import insert_rows, open_archive

    path = tmp_path / "archive.db"
    db = open_archive(path)
    insert_rows(db, [{"id": 1, "url": "https://x.example/1", "source": "x", "title": "عقد مؤتمراً", "text": "تهديداً جديداً"}], [])
    db.close()
    with sqlite3.connect(path) as connection:  # the index as the stemmer before tanween folding wrote it
        connection.execute("delete from articles_fts")
        connection.execute("insert into articles_fts (rowid, title, text) values (1, 'عقد موتمرا', 'تهديدا جديدا')")
        connection.execute("delete from _sqlite_migrations where name = 'm031_search_index_tanween'")
    db = open_archive(path)
    assert db.execute("select title, text from articles_fts where rowid = 1").fetchone() == ("عقد موتمر", "تهديد جديد")
    assert db.execute("select count(*) from articles_fts where articles_fts match '\"تهديد\"'").fetchone()[0] == 1
    db.close()
