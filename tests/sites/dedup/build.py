"""Write the dedup test site (day1/, day2/) from the stories below: `python tests/sites/dedup/build.py`.

An invented Arabic news site, all on one subject (counter-terrorism
cooperation), served by crawler.demo.server.SiteServer. day1/ is the site at the
first crawl; day2/ holds the pages that appear before the second crawl (copied
over day1/, its home page replaces day1's).

Day 1:
- story A at /news/amman-ministers.html, also linked from the home page with
  tracking parameters and as an AMP page /amp/news/amman-ministers.html that
  declares the clean URL canonical: one article, two `url` duplicates;
- wire story B /news/gulf-finance-center.html, republished a day later at
  /news/gulf-network-finance.html with a new headline, another dateline and an
  extra paragraph: a `near` duplicate;
- stories C and D: different stories on the same subject, both kept.
Day 2:
- /news/gulf-center-review.html: B again, hamza/tashkeel variants, a dropped
  paragraph, an added one: `near` duplicate of the day-1 article;
- /news/witness-law-debate.html: C with only spelling variants: `exact`;
- /news/joint-hijack-drill.html: a new story, stored.
"""

from __future__ import annotations

import html
from pathlib import Path

SITE = Path(__file__).resolve().parent

A = [
    "عمّان - اتفق وزراء داخلية ثماني دول عربية، في ختام اجتماعهم الذي استضافته العاصمة الأردنية يوم الثلاثاء، على إنشاء آلية دائمة لتبادل المعلومات الأمنية المتعلقة بتحركات الجماعات المسلحة عبر الحدود، على أن تبدأ عملها مطلع العام المقبل بمقر الأمانة العامة للمجلس.",
    "وقال البيان الختامي إن الآلية الجديدة ستعتمد قاعدة بيانات مشتركة تضم أسماء المطلوبين ووثائق السفر المزورة وأنماط التمويل المشبوهة، وإن كل دولة ستعين ضابط اتصال متفرغاً يتولى الرد على طلبات الدول الأخرى خلال ثمانٍ وأربعين ساعة.",
    "وأوضح وزير الداخلية الأردني في مؤتمر صحفي أن التجربة أثبتت أن تأخر وصول المعلومة كان في حالات كثيرة أخطر من غيابها، مشيراً إلى أن الاجتماع ناقش ثلاث حالات وقعت خلال العامين الماضيين كان يمكن تفاديها لو توفرت قناة اتصال سريعة.",
    "وتضمنت مقررات الاجتماع تشكيل فريق فني من خبراء الاتصالات وأمن المعلومات لوضع المعايير التقنية لحماية البيانات المتبادلة، وتحديد مستويات الوصول إليها، بما يضمن عدم استخدامها في غير الأغراض التي جمعت من أجلها.",
    "كما دعا الوزراء إلى تعزيز التعاون مع المنظمات الدولية المتخصصة، وإلى عقد دورات تدريبية مشتركة لضباط الحدود والمطارات على كشف الوثائق المزورة، على أن يعقد الاجتماع المقبل في تونس خلال الربع الأول من العام القادم.",
    "ويأتي الاجتماع بعد سلسلة لقاءات تمهيدية عقدها خبراء أمنيون من الدول المشاركة على مدى ستة أشهر، أعدوا خلالها مسودة الاتفاق ونموذج التبادل الذي أقره الوزراء بالإجماع.",
]
B = [
    "(كونا) -- أعلنت الأمانة العامة لمجلس التعاون لدول الخليج العربية اليوم الأحد إطلاق مركز إقليمي لرصد التحويلات المالية المشبوهة وتتبع مصادر تمويل الجماعات الإرهابية، في خطوة وصفتها بأنها الأوسع من نوعها منذ تأسيس المجلس.",
    "وقال الأمين العام المساعد للشؤون الأمنية في تصريح صحفي إن المركز سيربط وحدات التحريات المالية في الدول الأعضاء بشبكة إلكترونية موحدة، تتيح تبادل التقارير عن العمليات المشبوهة بصورة فورية بدلاً من المراسلات الورقية المعمول بها حالياً.",
    "وأضاف أن المركز سيعمل بالتنسيق مع البنوك المركزية وشركات الصرافة ومنصات الدفع الإلكتروني، وسيصدر تقريراً فصلياً يرصد الأساليب الجديدة التي تلجأ إليها الشبكات الإرهابية لنقل الأموال، ومنها العملات الرقمية والجمعيات الخيرية الوهمية.",
    "وأشار إلى أن المرحلة الأولى من المشروع تشمل تدريب مئة وعشرين محللاً مالياً من الدول الست، على أن تبدأ المرحلة الثانية بعد عام بربط قواعد بيانات السجلات التجارية والعقارية بالمركز.",
    "وأكد المسؤول الخليجي أن تجفيف منابع التمويل يبقى الركيزة الأساسية في الحرب على الإرهاب، لافتاً إلى أن دول المجلس جمدت خلال السنوات الخمس الماضية أصولاً تزيد قيمتها على ثلاثمئة مليون دولار مرتبطة بأفراد وكيانات مدرجة على قوائم العقوبات.",
]
B_EXTRA = (
    "ويأتي الإعلان عن المركز بعد أسابيع من اجتماع وزراء المالية في الدول الأعضاء، الذي أوصى بتوحيد التشريعات "
    "الخاصة بمكافحة غسل الأموال وإلزام المؤسسات المالية بالإبلاغ عن أي تحويل يتجاوز سقفاً محدداً دون مستندات واضحة."
)
B_REPUBLISHED = ["الرياض - " + B[0].split("-- ", 1)[1], *B[1:4], B_EXTRA, B[4], "المصدر: وكالات"]
B_DAY2 = [
    "الكويت - أعلنت الأمانة العامة لمجلس التعاون لدول الخليج العربية إطلاق مركز إقليمي لرصد التحويلات المالية المشبوهة وتتبع مصادر تمويل الجماعات الإرهابية، في خطوة وصفتها بأنها الأوسع من نوعها منذ تأسيس المجلس.",
    "وقال الامين العام المساعد للشؤون الامنية في تصريح صحفي ان المركز سيربط وحدات التحريات المالية في الدول الاعضاء بشبكة الكترونية موحدة، تتيح تبادل التقارير عن العمليات المشبوهة بصورة فورية بدلا من المراسلات الورقية المعمول بها حاليا.",
    "وأضاف أنّ المركزَ سيعمل بالتنسيق مع البنوك المركزية وشركات الصرافة ومنصّات الدفع الإلكتروني، وسيُصدر تقريراً فصلياً يرصد الأساليب الجديدة التي تلجأ إليها الشبكات الإرهابية لنقل الأموال، ومنها العملات الرقمية والجمعيات الخيرية الوهمية.",
    B[4],
    "وكانت دول المجلس قد وقعت في وقت سابق مذكرات تفاهم مع عدد من الدول الأوروبية لتبادل الخبرات في مجال مكافحة تمويل الإرهاب وتدريب الكوادر المتخصصة.",
]
C = [
    "بغداد - أنهى مجلس النواب في جلسته المنعقدة يوم الخميس القراءة الأولى لمشروع قانون حماية الشهود والمبلغين والخبراء في قضايا الإرهاب والجريمة المنظمة، وسط خلافات بين الكتل حول الجهة التي ستتولى إدارة برنامج الحماية.",
    "ويمنح المشروع الشاهد الحق في إخفاء هويته ومحل إقامته خلال التحقيق والمحاكمة، والإدلاء بشهادته عبر الدائرة التلفزيونية المغلقة، كما يجيز نقله وأفراد أسرته إلى مسكن آخر وتغيير بيانات هويته في الحالات التي يقدر فيها القاضي وجود خطر جدي على حياته.",
    "وقال رئيس اللجنة القانونية إن غياب هذه الحماية دفع كثيراً من الشهود إلى التراجع عن إفاداتهم بعد تعرضهم للتهديد، ما أدى إلى إطلاق سراح متهمين في قضايا خطيرة لعدم كفاية الأدلة.",
    "في المقابل، طالب نواب بإسناد البرنامج إلى مجلس القضاء بدلاً من وزارة الداخلية، معتبرين أن استقلال الجهة المشرفة شرط أساسي لثقة الشهود، فيما اقترح آخرون إنشاء هيئة مستقلة ترتبط بالبرلمان.",
    "ومن المقرر أن تستضيف اللجنة القانونية الأسبوع المقبل ممثلين عن منظمات حقوقية ونقابة المحامين للاستماع إلى ملاحظاتهم قبل القراءة الثانية.",
]
C_SPELLING = [
    p.replace("إ", "ا").replace("أ", "ا").replace("ة ", "ه ").replace("الشهود", "الشُّهود").replace("القانونية", "القانونيّة")
    for p in C
]
D = [
    "الرباط - ناقش باحثون وتربويون من المغرب وتونس والسنغال، في ندوة احتضنتها كلية علوم التربية يوم السبت، السبل التي يمكن أن تسهم بها المدرسة في تحصين الشباب من خطابات التطرف العنيف، في ظل تزايد استخدام الجماعات المتشددة لمنصات التواصل الاجتماعي.",
    "وقدمت الباحثة في علم الاجتماع نتائج دراسة ميدانية شملت ألفي تلميذ في المرحلة الثانوية، أظهرت أن ضعف مهارات التفكير النقدي والشعور بالتهميش يرتبطان أكثر من المستوى الاقتصادي بقابلية التأثر بالدعاية المتطرفة.",
    "ودعا المشاركون إلى إدراج مادة للتربية الإعلامية في المناهج الدراسية، تعلم التلاميذ كيفية التحقق من الأخبار وتمييز المحتوى المضلل، إلى جانب تكوين الأساتذة على رصد علامات الانعزال والتغير المفاجئ في سلوك التلاميذ والتعامل معها.",
    "وشدد متدخلون على أن المقاربة الأمنية وحدها لا تكفي لمواجهة الظاهرة، وأن إشراك الأسر وجمعيات المجتمع المدني والأندية الرياضية والثقافية في أنشطة منتظمة داخل المؤسسات التعليمية يعزز شعور الانتماء لدى الشباب.",
    "واختتمت الندوة بتوصية بإنشاء شبكة إقليمية للباحثين في مجال الوقاية من التطرف، تتبادل الدراسات والتجارب الناجحة وتعقد لقاء سنوياً بالتناوب بين الدول المشاركة.",
]
E = [
    "عمّان - اختتمت في قاعدة جوية شمال العاصمة الأردنية مناورات مشتركة استمرت عشرة أيام بمشاركة وحدات من القوات الخاصة في خمس دول عربية، تدربت خلالها على سيناريوهات التعامل مع اختطاف طائرات مدنية واحتجاز رهائن داخل مبان حكومية.",
    "وقال قائد المناورات إن التدريبات ركزت على توحيد إجراءات الاتصال والقيادة بين الوحدات المشاركة، واختبار سرعة الاستجابة في ظروف ليلية وجوية صعبة، مؤكداً أن الفرق أنجزت جميع المهام المطلوبة ضمن الأوقات المحددة.",
    "وشهد اليوم الختامي تمريناً حياً حاكى سيطرة مجموعة مسلحة على طائرة ركاب في مدرج المطار، جرى خلاله التفاوض مع الخاطفين ثم اقتحام الطائرة وتحرير الرهائن دون خسائر، بحضور رؤساء أركان الدول المشاركة.",
    "وأوضح أن المناورات هي الرابعة من نوعها منذ توقيع اتفاقية التعاون العسكري بين الدول الخمس، وأن النسخة المقبلة ستضيف للمرة الأولى سيناريوهات للتعامل مع الطائرات المسيرة المفخخة.",
]

# path → (title, published, paragraphs); paths under /news/ are articles.
DAY1 = {
    "/news/amman-ministers.html": ("وزراء داخلية عرب يتفقون في عمّان على آلية دائمة لتبادل المعلومات الأمنية", "2025-04-08T12:30:00+03:00", A),
    "/news/gulf-finance-center.html": ("مجلس التعاون يطلق مركزاً إقليمياً لرصد تمويل الجماعات الإرهابية", "2025-04-06T09:15:00+03:00", B),
    "/news/gulf-network-finance.html": ("الخليج يؤسس شبكة موحدة لملاحقة أموال الإرهاب", "2025-04-07T18:00:00+03:00", B_REPUBLISHED),
    "/news/witness-protection-law.html": ("البرلمان يناقش مشروع قانون لحماية الشهود والمبلغين في قضايا الإرهاب", "2025-04-10T14:00:00+03:00", C),
    "/news/rabat-schools-seminar.html": ("ندوة في الرباط تبحث دور المدرسة في وقاية الشباب من التطرف", "2025-04-12T11:00:00+03:00", D),
}
DAY2 = {
    "/news/gulf-center-review.html": ("مركز خليجي جديد لتعقب أموال الجماعات المتطرفة", "2025-04-20T08:00:00+03:00", B_DAY2),
    "/news/witness-law-debate.html": ("نقاش برلماني حول قانون حماية الشهود", "2025-04-21T10:00:00+03:00", C_SPELLING),
    "/news/joint-hijack-drill.html": ("تدريب مشترك لقوات خاصة من خمس دول على التصدي لاختطاف الطائرات", "2025-04-22T16:45:00+03:00", E),
}
TRACKING_LINK = "/news/amman-ministers.html?utm_source=facebook&utm_medium=social&fbclid=IwAR0abc"
AMP_PATH = "/amp/news/amman-ministers.html"


def page(path: str, title: str, published: str, paragraphs: list[str], canonical: str | None = None) -> str:
    canonical = canonical or path
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} - الرصد العربي</title>
<link rel="canonical" href="__BASE_URL__{canonical}">
<meta property="og:type" content="article">
<meta property="og:url" content="__BASE_URL__{canonical}">
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{published}">
</head>
<body>
<header><a href="/">الرصد العربي</a> <nav><a href="/">الرئيسية</a> <a href="/section/world/index.html">عربي ودولي</a></nav></header>
<article>
<h1>{html.escape(title)}</h1>
<time datetime="{published}">{published[:10]}</time>
{body}
</article>
<footer>جميع الحقوق محفوظة © الرصد العربي</footer>
</body>
</html>
"""


def amp_page(path: str, title: str, published: str, paragraphs: list[str], canonical: str) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html amp lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="canonical" href="__BASE_URL__{canonical}">
<meta name="viewport" content="width=device-width,minimum-scale=1">
<meta property="article:published_time" content="{published}">
</head>
<body>
<div class="amp-header"><a href="__BASE_URL__/">الرصد العربي</a></div>
<main><h1>{html.escape(title)}</h1>
{body}
</main>
</body>
</html>
"""


def listing(title: str, links: list[tuple[str, str]]) -> str:
    items = "\n".join(f'<li><a href="{href}">{html.escape(text)}</a></li>' for href, text in links)
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body>
<h1>{html.escape(title)}</h1>
<ul>
{items}
</ul>
<p><a href="/section/world/index.html">عربي ودولي</a></p>
</body>
</html>
"""


def build() -> None:
    day1, day2 = SITE / "day1", SITE / "day2"
    for path, (title, published, paragraphs) in DAY1.items():
        write(day1 / path.lstrip("/"), page(path, title, published, paragraphs))
    title, published, paragraphs = DAY1["/news/amman-ministers.html"]
    write(day1 / AMP_PATH.lstrip("/"), amp_page(AMP_PATH, title, published, paragraphs, "/news/amman-ministers.html"))
    home = [(TRACKING_LINK, title), (AMP_PATH, title + " (AMP)")]
    home += [(path, item[0]) for path, item in DAY1.items() if path != "/news/amman-ministers.html"]
    write(day1 / "index.html", listing("الرصد العربي", home))
    world = [("/news/amman-ministers.html", title), ("/news/gulf-network-finance.html", DAY1["/news/gulf-network-finance.html"][0])]
    write(day1 / "section/world/index.html", listing("عربي ودولي", world))
    for path, (title, published, paragraphs) in DAY2.items():
        write(day2 / path.lstrip("/"), page(path, title, published, paragraphs))
    write(day2 / "index.html", listing("الرصد العربي", [(p, t[0]) for p, t in DAY2.items()] + home))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    build()
