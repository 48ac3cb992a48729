"""Generate an Arabic news corpus with known near-duplicates and known same-subject non-duplicates.

    python bench/dedup/corpus.py --docs 20000 --out /tmp/corpus.jsonl

Material: the five seed pages in ``../shared/seeds/*.txt`` (read at run time,
never copied here), all on one subject: international counter-terrorism
cooperation. Their sentences train a word-bigram chain that writes new, distinct
stories on that same subject (the hard case for precision: shared vocabulary,
shared stock phrases). The five seed texts themselves are in the corpus as five
distinct stories.

Every document is one JSON line: ``id``, ``story`` (documents with the same
story are copies of one another, every other pair is not), ``role``
(seed, original, copy, related), ``mutations`` (for copies), ``title``, ``text``.

Copies are republications: edited headline, added or dropped paragraph,
tashkeel or hamza/alef/ta-marbuta variants, another site's boilerplate lines,
other punctuation, a few words reworded; one to three of these at once.
"related" documents are new stories that reuse one or two paragraphs of an
earlier story (background paragraphs, a shared quote): NOT copies.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEEDS_DIR = PROJECT_DIR.parent / "shared" / "seeds"

_SPLIT_LINE_RE = re.compile(r"\s{3,}|\n")
_SENTENCE_RE = re.compile(r"(?<=[.!؟])\s*")
_WORD_RE = re.compile(r"\S+")
_HARAKAT = "\u064e\u064f\u0650\u0651\u0652\u064b"
_ARABIC_LETTER_RE = re.compile(r"[\u0621-\u064a]")

FIRST_NAMES = ["محمد", "أحمد", "علي", "حسن", "حسين", "عمر", "خالد", "سعيد", "يوسف", "إبراهيم", "عبدالله", "سالم", "فيصل", "طارق", "ماجد", "نبيل", "رامي", "هشام", "وليد", "جمال", "كريم", "ناصر", "زياد", "عادل", "مروان", "سامي", "باسل", "فراس", "منصور"]
FAMILY_NAMES = ["العبيدي", "الخزرجي", "الدوري", "الحسيني", "الزبيدي", "الشمري", "التميمي", "الكعبي", "الجبوري", "العنزي", "المطيري", "الهاشمي", "البدري", "الراوي", "السامرائي", "النعيمي", "الكبيسي", "الدليمي", "العامري", "الربيعي", "الساعدي"]
CITIES = ["بغداد", "البصرة", "الموصل", "أربيل", "كركوك", "الكويت", "عمّان", "الرياض", "القاهرة", "الرباط", "تونس", "الجزائر", "بيروت", "دمشق", "الدوحة", "مسقط", "المنامة", "أبوظبي", "نواكشوط", "الخرطوم", "طرابلس", "صنعاء", "جدة", "الإسكندرية", "مراكش"]
SITES = ["الرافدين", "السومرية", "المدى", "الفرات", "الصباح", "الزمان", "الشرق", "الغد", "الوطن", "الأنباء", "الخليج", "الحدث"]
BOILERPLATE = (
    "المصدر: وكالات",
    "(كونا) --",
    "(واع) --",
    "تابعونا على فيسبوك وتويتر",
    "جميع الحقوق محفوظة لموقع {site}",
    "شارك هذا الخبر",
    "اقرأ أيضاً: {headline}",
    "نشر في {site} يوم {day} - 09 - 2017",
    "انقر هنا لقراءة الخبر من مصدره.",
    "للمزيد من الأخبار تابعوا موقع {site}",
    "آخر تحديث: {day}/03/2025",
    "كلمات دليلية: الإرهاب، التعاون الدولي، {city}",
)
MUTATIONS = ("headline", "add_paragraph", "drop_paragraph", "tashkeel", "hamza", "boilerplate", "punctuation", "reword")


def read_seeds(seeds_dir: Path) -> list[str]:
    files = sorted(seeds_dir.glob("*.txt"))
    if len(files) < 5:
        raise SystemExit(f"corpus: the seed pages are missing from {seeds_dir} (need ../shared/seeds/*.txt)")
    return [f.read_text(encoding="utf-8") for f in files]


def seed_paragraphs(text: str) -> list[str]:
    """A seed page's text lines (ticker items split apart), blank and one-word lines dropped."""
    parts = [p.strip(" •\u00a0\t") for p in _SPLIT_LINE_RE.split(text)]
    return [p for p in parts if len(p.split()) >= 2]


class Writer:
    """Writes same-subject Arabic sentences from a word-bigram chain over the seed texts."""

    def __init__(self, texts: list[str], rng: random.Random):
        self.rng = rng
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        self.ends: set[str] = set()
        self.vocabulary: list[str] = []
        for text in texts:
            for paragraph in seed_paragraphs(text):
                if len(paragraph.split()) < 12:  # ticker headlines, captions, bylines: other subjects
                    continue
                for sentence in _SENTENCE_RE.split(paragraph):
                    words = _WORD_RE.findall(sentence)
                    if len(words) < 4:
                        continue
                    self.starts.append(words[0])
                    self.ends.add(words[-1])
                    self.vocabulary.extend(words)
                    for a, b in pairwise(words):
                        self.next[a].append(b)

    def sentence(self, entities: list[str]) -> str:
        rng = self.rng
        length = rng.randint(8, 28)
        word = rng.choice(self.starts)
        words = [word]
        while len(words) < length:
            followers = self.next.get(word)
            if not followers or (len(words) >= 6 and word in self.ends and rng.random() < 0.5):
                break
            word = rng.choice(followers)
            words.append(word)
            if rng.random() < 0.04 and entities:  # the story's own names and places
                words.append(rng.choice(entities))
        text = " ".join(words).rstrip(".،")
        return text + "."

    def paragraph(self, entities: list[str]) -> str:
        return " ".join(self.sentence(entities) for _ in range(self.rng.randint(2, 4)))

    def entities(self) -> list[str]:
        rng = self.rng
        people = [f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}" for _ in range(2)]
        return people + rng.sample(CITIES, 2) + [str(rng.randint(3, 400))]


class Corpus:
    def __init__(self, texts: list[str], seed: int):
        self.rng = random.Random(seed)
        self.writer = Writer(texts, self.rng)
        self.seeds = texts

    def story(self, brief: bool | None = None) -> dict:
        """A new story: 4-10 paragraphs, or a wire brief of 2-3 (15%); 60 words at least."""
        rng, writer = self.rng, self.writer
        entities = writer.entities()
        brief = rng.random() < 0.15 if brief is None else brief
        count = rng.randint(2, 3) if brief else rng.randint(4, 10)
        paragraphs: list[str] = []
        while sum(len(p.split()) for p in paragraphs) < 60:
            paragraphs = [f"{entities[2]} - " + writer.paragraph(entities)] + [writer.paragraph(entities) for _ in range(count - 1)]
        if rng.random() < 0.5:
            paragraphs.append(self.boilerplate())
        title = " ".join(writer.sentence(entities).split()[: rng.randint(6, 12)]).rstrip(".")
        return {"title": title, "paragraphs": paragraphs, "entities": entities}

    def related(self, other: dict) -> dict:
        """A new story that reuses a paragraph of ``other`` (two of a long one): background, a quote."""
        story = self.story(brief=False)
        body = [p for p in other["paragraphs"][1:] if not _is_boilerplate(p)] or other["paragraphs"]
        reused = self.rng.sample(body, 2 if len(body) >= 6 and self.rng.random() < 0.5 else 1)
        paragraphs = story["paragraphs"][:]
        for paragraph in reused:
            paragraphs.insert(self.rng.randint(1, len(paragraphs)), paragraph)
        return {**story, "paragraphs": paragraphs}

    def boilerplate(self) -> str:
        rng = self.rng
        line = rng.choice(BOILERPLATE)
        headline = " ".join(self.writer.sentence([]).split()[:8]).rstrip(".")
        return line.format(site=rng.choice(SITES), headline=headline, day=rng.randint(10, 28), city=rng.choice(CITIES))

    def copy(self, story: dict) -> tuple[dict, list[str]]:
        """A republication of ``story`` with one to three mutations."""
        rng = self.rng
        mutations = rng.sample(MUTATIONS, rng.choice((1, 1, 2, 2, 3)))
        title, paragraphs = story["title"], list(story["paragraphs"])
        for mutation in mutations:
            if mutation == "headline":
                words = title.split()
                title = " ".join(words[: max(3, len(words) - 3)] + self.writer.sentence(story["entities"]).split()[:4]).rstrip(".")
            elif mutation == "add_paragraph":
                paragraphs.insert(rng.randint(1, len(paragraphs)), self.writer.paragraph(story["entities"]))
            elif mutation == "drop_paragraph":
                body = [i for i, p in enumerate(paragraphs) if i and not _is_boilerplate(p)]
                if len(body) >= 2:
                    paragraphs.pop(rng.choice(body))
            elif mutation == "tashkeel":
                paragraphs = [_tashkeel(p, rng) for p in paragraphs]
            elif mutation == "hamza":
                paragraphs = [_hamza(p, rng) for p in paragraphs]
            elif mutation == "boilerplate":
                paragraphs = [p for p in paragraphs if not _is_boilerplate(p)]
                for _ in range(rng.randint(1, 3)):
                    paragraphs.insert(rng.choice((0, len(paragraphs))), self.boilerplate())
            elif mutation == "punctuation":
                paragraphs = [_punctuation(p, rng) for p in paragraphs]
            elif mutation == "reword":
                paragraphs = [self._reword(p) for p in paragraphs]
        return {"title": title, "paragraphs": paragraphs, "entities": story["entities"]}, mutations

    def _reword(self, paragraph: str) -> str:
        words = paragraph.split()
        for _ in range(max(1, len(words) * self.rng.randint(2, 4) // 100)):
            words[self.rng.randrange(len(words))] = self.rng.choice(self.writer.vocabulary)
        return " ".join(words)

    def documents(self, total: int):
        """``total`` documents in publication order: originals, their copies soon after, related stories."""
        rng = self.rng
        timeline: list[tuple[float, dict]] = []
        story_id = 0
        for index, text in enumerate(self.seeds):
            timeline.append((rng.uniform(0, total), {"story": story_id, "role": "seed", "mutations": [],
                                                      "title": seed_paragraphs(text)[0], "text": text}))
            story_id += 1
        stories: list[dict] = []
        while len(timeline) < total:
            at = rng.uniform(0, total)
            if stories and rng.random() < 0.08:
                base = self.related(rng.choice(stories))
                role = "related"
            else:
                base, role = self.story(), "original"
            stories.append(base)
            timeline.append((at, {"story": story_id, "role": role, "mutations": [], **_render(base)}))
            copies = 0 if rng.random() < 0.75 else min(int(rng.paretovariate(1.9)), 20)
            for _ in range(copies):
                copy, mutations = self.copy(base)
                timeline.append((at + rng.expovariate(1 / 40), {"story": story_id, "role": "copy", "mutations": mutations, **_render(copy)}))
            story_id += 1
        timeline.sort(key=lambda pair: pair[0])
        for doc_id, (_, doc) in enumerate(timeline[:total]):
            yield {"id": doc_id, **doc}


def _render(story: dict) -> dict:
    return {"title": story["title"], "text": "\n".join(story["paragraphs"])}


def _is_boilerplate(paragraph: str) -> bool:
    return len(paragraph.split()) <= 12 and any(line.split("{")[0][:10] in paragraph for line in BOILERPLATE)


def _tashkeel(paragraph: str, rng: random.Random) -> str:
    words = []
    for word in paragraph.split(" "):
        if rng.random() < 0.3:
            word = "".join(c + rng.choice(_HARAKAT) if _ARABIC_LETTER_RE.match(c) and rng.random() < 0.5 else c for c in word)
        words.append(word)
    return " ".join(words)


_HAMZA_SWAPS = (("أ", "ا"), ("إ", "ا"), ("ا", "أ"), ("ة", "ه"), ("ى", "ي"), ("ي", "ى"), ("آ", "ا"))


def _hamza(paragraph: str, rng: random.Random) -> str:
    words = []
    for word in paragraph.split(" "):
        if rng.random() < 0.25:
            for old, new in _HAMZA_SWAPS:
                if old in word and rng.random() < 0.5:
                    word = word.replace(old, new, 1)
        words.append(word)
    return " ".join(words)


def _punctuation(paragraph: str, rng: random.Random) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        return paragraph.replace("،", ",").replace(".", ". ").replace('"', "«", 1)
    if choice == 1:
        return re.sub(r"[.،,\"«»:]", " ", paragraph)
    return paragraph.replace(" و", "، و").replace(".", "؛")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_corpus(args.out, args.docs, args.seed, args.seeds_dir)
    return 0


def write_corpus(path: Path, total: int, seed: int = 7, seeds_dir: Path = SEEDS_DIR) -> Path:
    corpus = Corpus(read_seeds(seeds_dir), seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for doc in corpus.documents(total):
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
