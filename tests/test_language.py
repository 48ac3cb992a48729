"""Arabic vs Persian/Urdu/English on real-looking snippets, short headlines, mixed text and shared pages."""

from pathlib import Path

import pytest

from pipelines import language
from pipelines.language import arabic_script_ratio, detect_language

ARABIC = [
    "أعلنت وزارة الصحة المصرية، اليوم الثلاثاء، تسجيل 30 إصابة جديدة بفيروس كورونا المستجد، وحالتي وفاة، ليرتفع إجمالي عدد الإصابات إلى 196 حالة.",
    "قال مسؤولون إن المفاوضات بين الجانبين ستستأنف الأسبوع المقبل في الدوحة.",
    "أكد وزير الداخلية أن الانتخابات الجماعية ستجرى في موعدها المحدد.",
    "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ",
    "ﺍﻟﺴﻼﻡ ﻋﻠﻴﻜﻢ ﻭﺭﺣﻤﺔ ﺍﻟﻠﻪ",  # presentation forms
    # short headlines
    "وزير الري يشهد توقيع عقد دراسة",
    "ترامب يهاجم بايدن من جديد",  # no ة, no ال: decided by langdetect
    "مصر تفوز على تونس",
    "ارتفاع أسعار النفط",
    "هل يعود ميسي إلى برشلونة؟",
    # mixed: Arabic article with English menu words
    "Home News Sports Video Login Subscribe أعلنت وزارة الصحة المصرية، اليوم الثلاثاء، تسجيل 30 إصابة جديدة بفيروس كورونا المستجد، وحالتي وفاة.",
    "Breaking: أعلنت الحكومة العراقية عن حزمة إصلاحات اقتصادية جديدة تشمل دعم الشركات الصغيرة Read more Share Tweet",
    # a Persian-spelled name inside an Arabic text
    "الرئيس الإيراني مسعود پزشکیان يزور بغداد في أول جولة خارجية له منذ توليه المنصب، ويلتقي رئيس الوزراء العراقي.",
    # Arabic typed on a Persian keyboard (ی and ک for ي and ك)
    "قالت وزارة الخارجیة العراقیة إن الوزیر سیزور طهران الأسبوع المقبل لبحث العلاقات الثنائیة بین البلدین.",
    # Maghrebi Arabic with ڤ
    "أعلنت الجامعة الجزائرية لكرة القدم عن قائمة اللاعبين المدعوين لمباراة ڤينيا الاستوائية.",
]

PERSIAN = [
    "به گزارش خبرگزاری فارس، رئیس جمهور امروز در جلسه هیئت دولت گفت که دولت برای کاهش تورم برنامه‌های جدیدی دارد.",
    "رئیس جمهور در تهران",
    "افزایش قیمت بنزین در ایران",
    "تیم ملی فوتبال ایران امشب به مصاف ژاپن می‌رود",
    "قیمت دلار امروز ۱۴۰۳/۰۲/۲۴ اعلام شد",
    "پرسپولیس قهرمان شد",
    "وزیر امور خارجه با همتای عراقی خود دیدار کرد",
    # Persian typed with Arabic ي and ك (older sites): decided by langdetect
    "به گزارش خبرگزاري فارس، رئيس جمهور امروز در جلسه هيئت دولت گفت كه دولت براي كاهش تورم برنامه هاي جديدي دارد.",
    # Persian with Arabic loan phrases (ال inside): not Arabic
    "عناوین کل اخبار بین‌الملل",
    "اقتصاد بین الملل",
    "خلاصه والیبال کوبا 3 - آلمان 1",
]

URDU = [
    "وزیراعظم نے کہا ہے کہ حکومت مہنگائی پر قابو پانے کے لیے تمام اقدامات کر رہی ہے۔",
    "پاکستان میں شدید بارش",
    "لاہور میں ٹریفک حادثہ، دو افراد جاں بحق",
    "کراچی: شہر میں گرمی کی شدید لہر",
    "حکومت نے نئی پالیسی کا اعلان کر دیا",
]

ENGLISH = [
    "The government announced on Tuesday that new measures would be introduced to curb inflation.",
    "Oil prices rose sharply",
    # English article with a few Arabic words
    "The Arabic word سلام means peace, and it is used as a greeting across the region from Morocco to Iraq.",
    "Protesters gathered in Tahrir Square (ميدان التحرير) on Friday to demand reforms, witnesses said.",
]

LABELLED = (
    [(t, "ar") for t in ARABIC]
    + [(t, "fa") for t in PERSIAN]
    + [(t, "ur") for t in URDU]
    + [(t, "en") for t in ENGLISH]
)


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_detect_language(text, expected):
    code, prob = detect_language(text)
    assert code == expected
    assert 0.5 < prob <= 1.0


@pytest.mark.parametrize("text", PERSIAN + URDU)
def test_persian_and_urdu_never_arabic(text):
    assert detect_language(text)[0] != "ar"


@pytest.mark.parametrize("text", ["", "   \n\t ", "12345 - 678", "!!! ... ؟؟؟", None])
def test_undetermined(text):
    assert detect_language(text) == ("und", 0.0)


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_deterministic(text, expected):
    assert detect_language(text) == detect_language(text)


def test_only_the_first_chars_are_read():
    text = (ARABIC[0] + " ") * 15 + ENGLISH[0] * 300
    assert len((ARABIC[0] + " ") * 15) > language.SAMPLE_CHARS
    assert len(text) > 10 * language.SAMPLE_CHARS
    assert detect_language(text)[0] == "ar"


PLAIN_ARABIC = [t for t in ARABIC if language._is_plain_arabic(t, arabic_script_ratio(t))]


def test_fast_path_covers_most_arabic_samples():
    assert len(PLAIN_ARABIC) >= len(ARABIC) // 2


@pytest.mark.parametrize("text", PLAIN_ARABIC)
def test_fast_path_agrees_with_langdetect(text):
    ranked = language._langdetect(text)
    assert ranked and ranked[0][0] == "ar"


@pytest.mark.parametrize("text", PLAIN_ARABIC)
def test_fast_path_skips_langdetect(text, monkeypatch):
    def fail(_text):
        raise AssertionError("langdetect called on plainly Arabic text")

    monkeypatch.setattr(language, "_langdetect", fail)
    assert detect_language(text) == ("ar", language.FAST_PATH_PROBABILITY)


@pytest.mark.parametrize("text", PERSIAN + URDU + [ARABIC[12], ARABIC[13]])
def test_fast_path_never_takes_text_with_letters_arabic_lacks(text):
    assert not language._is_plain_arabic(text, arabic_script_ratio(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.0),
        ("123 !!", 0.0),
        ("مرحبا", 1.0),
        ("abcd مرحبا", 5 / 9),
        ("hello", 0.0),
        ("مُحَمَّد", 1.0),  # marks are not letters
        ("پاکستان", 1.0),
        ("ﻻ", 1.0),
    ],
)
def test_arabic_script_ratio(text, expected):
    assert arabic_script_ratio(text) == pytest.approx(expected)


def test_arabic_script_re():
    assert language.ARABIC_SCRIPT_RE.search("abc ع")
    assert not language.ARABIC_SCRIPT_RE.search("abc 123")


PAGES = Path(__file__).resolve().parents[2] / "shared" / "pages"


def _page_params(folder):
    paths = sorted((PAGES / folder).glob("*.txt"))
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no {PAGES / folder}/*.txt (shared pages absent)"))]
    return [pytest.param(p, id=p.stem) for p in paths]


@pytest.mark.parametrize("path", _page_params("other_lang"))
def test_shared_persian_and_urdu_pages_are_not_arabic(path):
    code, _ = detect_language(path.read_text(encoding="utf-8"))
    assert code in ("fa", "ur")


@pytest.mark.parametrize("path", _page_params("arabic_pages"))
def test_shared_arabic_pages_are_arabic(path):
    code, prob = detect_language(path.read_text(encoding="utf-8"))
    assert code == "ar"
    assert prob >= 0.9
