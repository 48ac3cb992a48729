"""Arabic vs Persian/Urdu/English on real-looking snippets, short headlines, mixed text and shared pages."""

import pytest
from langdetect import detect_langs

from bench.quality.corpus import SHARED_DIR
from pipelines.text import language
from pipelines.text.language import arabic_script_ratio, detect_language

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

# Other editions and quoted sources of Arabic sites: each must get its own loaded profile.
OTHER = [
    ("Le gouvernement a annoncé mardi de nouvelles mesures pour freiner l'inflation.", "fr"),
    ("Die Regierung kündigte am Dienstag neue Maßnahmen gegen die Inflation an.", "de"),
    ("El gobierno anunció el martes nuevas medidas para frenar la inflación.", "es"),
    ("Il governo ha annunciato martedì nuove misure per frenare l'inflazione.", "it"),
    ("O governo anunciou na terça-feira novas medidas para conter a inflação.", "pt"),
    ("De regering heeft dinsdag nieuwe maatregelen aangekondigd om de inflatie te beteugelen.", "nl"),
    ("Hükümet salı günü enflasyonu dizginlemek için yeni önlemler açıkladı.", "tr"),
    ("Правительство во вторник объявило о новых мерах по сдерживанию инфляции.", "ru"),
    ("הממשלה הודיעה ביום שלישי על צעדים חדשים לבלימת האינפלציה.", "he"),
    ("सरकार ने मंगलवार को महंगाई पर काबू पाने के लिए नए उपायों की घोषणा की।", "hi"),
    ("Pemerintah pada hari Selasa mengumumkan langkah-langkah baru untuk menekan inflasi.", "id"),
    ("政府星期二宣布了抑制通货膨胀的新措施，包括提高利率。", "zh"),
]

LABELLED = (
    [(t, "ar") for t in ARABIC]
    + [(t, "fa") for t in PERSIAN]
    + [(t, "ur") for t in URDU]
    + [(t, "en") for t in ENGLISH]
    + OTHER
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


def test_only_the_chosen_profiles_are_loaded():
    assert language._detector_factory().get_lang_list() == list(language.PROFILES)
    assert {"ar", "fa", "ur"} <= set(language.PROFILES)  # every Arabic-script language langdetect has


@pytest.mark.parametrize(
    ("text", "expected"), [*[(t, c) for t, c in LABELLED if c != "zh"], (ENGLISH[0] + " " + ARABIC[0], "en")]
)
def test_loaded_profiles_agree_with_all_profiles(text, expected):
    """The 16 profiles rank first what langdetect's 55 rank first, where the page's language is loaded.

    (Not Chinese: all 55 split Han text between zh-cn, zh-tw, ja and ko.)
    """
    sample = language.strip_tashkeel(language.unicodedata.normalize("NFKC", text))
    assert language._langdetect(sample)[0][0] == detect_langs(sample)[0].lang.split("-")[0]


@pytest.mark.parametrize(
    "text",
    [
        "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για την οικονομία της χώρας (السلام عليكم)",
        "รัฐบาลประกาศมาตรการใหม่เพื่อเศรษฐกิจของประเทศ السلام عليكم",
        "정부는 오늘 경제를 위한 새로운 조치를 발표했다 السلام",
    ],
)
def test_text_in_a_script_no_profile_knows_is_not_arabic(text):
    """langdetect sees only the Arabic letters of a Greek, Thai or Korean text: that is no evidence."""
    assert detect_language(text)[0] != "ar"


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_loaded_languages_are_in_known_scripts(text, expected):
    assert language._unknown_letters(language.unicodedata.normalize("NFKC", text)) == 0


@pytest.mark.parametrize("text", [t for t, _ in LABELLED] + ["", "abc ١٢٣ ـ ً ﷺ ﻻ Ⅻ ² ڤ", "ﺍﻟﺴﻼﻡ 𝔸"])
def test_letter_counts_are_isalpha_and_arabic_script(text):
    expected = (
        sum(1 for ch in text if ch.isalpha()),
        sum(1 for ch in text if ch.isalpha() and language.ARABIC_SCRIPT_RE.match(ch)),
    )
    assert language._letter_counts(text) == expected


def test_arabic_script_letters_are_all_the_arabic_script_letters():
    every = {chr(c) for c in range(0x110000) if chr(c).isalpha() and language.ARABIC_SCRIPT_RE.match(chr(c))}
    assert language._ARABIC_SCRIPT_LETTERS == every


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


PAGES = SHARED_DIR / "pages"  # ../shared, or ARSHIF_SHARED_DIR


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
