"""What a customer's reply to a reminder says: paid, a promise to pay, a
dispute, a payment plan request, a request to stop, or something else; with
the day paid or promised and the amount, in the five languages the addon
ships (English, French, Spanish, Brazilian Portuguese, Indonesian).

Plain Python, no ORM: ``understand(text, lang, today)``. Dates come from
``dateparser`` (relative days, weekday names, "le 15 décembre", "15/12");
this file writes only what it does not read: a day of the month alone
("dia 10", "le 20", "tanggal 5"), "the day after tomorrow", "next week" and
"end of the month" outside English, amounts with their currency and either
decimal mark ("1.234,56 €", "$1,234.56", "Rp 1.500.000", "2,5 juta"), and
which kind of answer the words make. The rule for opt-outs lives in
``keywords.py``: only a customer who clearly asks to stop opts out.
"""

import calendar
import datetime
import re
import unicodedata

from .keywords import asks_to_stop

KINDS = ("paid", "promise", "dispute", "plan", "stop", "other")
LANGS = ("en", "fr", "es", "pt", "id")

# === WORDS (accents removed, lower case) === #
# Each kind's phrases in all five languages: customers often answer in
# another language than the one on file, and the phrases do not collide.

DISPUTE = r"""
    \bwrong\b | \bincorrect | \bmistake | \berror\b | \bnot\s+(?:ours|mine|correct|right)\b | \bdispute
  | \bnever\s+(?:received|got|ordered) | \bdid\s*n[o']?t\s+(?:receive|order|get) | \bhave\s*n[o']?t\s+received
  | \bnot\s+received\s+the\s+(?:goods|order|products?|items?|delivery) | \bdamaged | \bbroken\b | \bovercharg
  | \bcharged\s+twice | \b(?:does|do)\s*n[o']?t\s+match | \bonly\s+\d+\s+(?:arrived|came|were\s+delivered|delivered)\b
  | \bmissing\s+(?:items?|goods|parts?) | \bdouble\s+(?:charged|billed) | \breturned\s+(?:the|it|them)
  | \bcredit\s+note | \berreur | \berrone | \bfau(?:x|sse)\b | \bn'a\s+pas\s+ete\s+(?:appliquee?|deduite?|livree?)
  | \bincorrecte? | \bpas\s+(?:commande|recu|la\s+bonne|juste|correct) | \bconteste | \bjamais\s+(?:recu|commande)
  | \bdeja\s+(?:retourne|rendu) | \babime | \bavoir\b | \blitige | \bequivocad | \bincorrect[oa]
  | \bno\s+(?:he\s+)?(?:recibi|pedi|hice\s+(?:ese|este)\s+pedido|corresponde|reconozco) | \breclam | \bno\s+coincide
  | \bcobraron\s+de\s+mas | \bno\s+es\s+(?:mi|nuestr) | \bnunca\s+(?:recibi|recebi|pedi) | \bdevolvi
  | \bcobr(?:o|aron|ado)\s+de\s+mas | \berrad[oa] | \bnao\s+bate
  | \bnao\s+(?:recebi|reconheco|pedi|fiz\s+(?:esse|este)\s+pedido|e\s+(?:meu|nosso|minha)) | \bindevid
  | \bcobranca\s+(?:errada|indevida|duplicada) | \bcobrado\s+(?:duas\s+vezes|a\s+mais) | \bdevolvemos | \bdevolvi
  | \bsalah | \btidak\s+sesuai | \bbelum\s+(?:terima|menerima)\s+barang
  | \btidak\s+pernah\s+(?:pesan|memesan|menerima|terima) | \bkeliru | \bkomplain
  | \bbukan\s+(?:pesanan|tagihan)\s+(?:saya|kami) | \brusak | \bsudah\s+(?:saya\s+)?kembalikan
"""

PLAN = r"""
    \binstal+ments? | \bpayment\s+plan | \bin\s+(?:parts|installments|instalments) | \bsplit\s+(?:the|it|this|into|in)
  | \bmonthly\s+payments | \bpay\s+(?:it\s+)?(?:in|over)\s+(?:\w+\s+)?(?:months|weeks|parts)
  | \bspread\s+(?:the|it|out) | \bhalf\s+now | \bpart\s+now\b | \bpayment\s+arrangement | \bbit\s+by\s+bit
  | \ben\s+(?:plusieurs|deux|trois|quatre|\d)\s+fois | \bplusieurs\s+(?:fois|versements|mensualites) | \bmensualites
  | \bech[eé]ancier | \betaler | \bfractionn | \bpaiement\s+echelonne | \bechelonn | \bla\s+moitie\s+maintenant
  | \b(?:en|em|in)\s+\d+\s?x\b | \bfacilidades\s+de\s+pago | \ben\s+(?:\w+\s+)?cuotas | \bplan\s+de\s+pagos?
  | \bfraccionar | \ba\s+plazos | \bpagos?\s+parciales | \bmitad\s+ahora | \bparcel | \bem\s+(?:\w+\s+)?vezes
  | \bmetade\s+agora | \bacordo\s+de\s+pagamento | \bplano\s+de\s+pagamento | cicil | \bangsur
  | \bdibayar\s+(?:dua|tiga|empat|\d)\s+kali | \bbertahap | \bsetengah\s+dulu | \bsebagian\s+dulu
  | \bdibayar\s+per\s+bulan
"""

NOT_PAID = r"""
    \b(?:not|never)\s+(?:yet\s+)?(?:been\s+)?paid | \bhave\s*n[o']?t\s+(?:yet\s+)?paid
  | \bhas\s*n[o']?t\s+(?:yet\s+)?(?:been\s+)?paid | \bdid\s*n[o']?t\s+pay | \bunpaid
  | \bcan\s*n?[o']?t\s+pay\s+(?:yet|now|today) | \bpas\s+(?:encore\s+)?(?:paye|regle|fait\s+le\s+virement)
  | \bn'ai\s+pas\s+(?:encore\s+)?(?:paye|regle) | \bno\s+(?:he\s+|hemos\s+)?(?:pagado|pague)\b
  | \btodavia\s+no\s+(?:he\s+)?pag | \baun\s+no\s+(?:he\s+)?pag | \bnao\s+(?:paguei|pagamos|consegui\s+pagar)
  | \bainda\s+nao\s+pag | \bbelum\s+(?:saya\s+|kami\s+)?(?:bayar|dibayar|membayar|transfer|lunas)
"""

PAID = r"""
    \b(?:i|we)\s+(?:have\s+|already\s+|just\s+)*paid | \b(?:i|we)'ve\s+(?:already\s+|just\s+)?paid | \balready\s+paid
  | \bpaid\s+(?:it|this|that|them|the|in\s+full|yesterday|today|on|last) | \b(?:is|was|were|been|are)\s+paid
  | \bpayment\s+(?:was|has\s+been|is)\s+(?:made|sent|done|completed)
  | \b(?:i|we)\s+(?:have\s+)?(?:sent|made|transferred|wired)
        \s+(?:the\s+|a\s+|my\s+)?(?:payment|money|transfer|funds|wire)
  | \b(?:i|we)\s+(?:have\s+)?(?:transferred|wired)\b
  | \b(?:check|cheque|payment|funds|transfer|wire)\s+(?:was\s+|were\s+|has\s+been\s+)?(?:sent|mailed|posted|made)\b
  | \b(?:it|payment)\s+(?:went|was\s+sent) | \bsettled\b
  | \bj'ai\s+(?:deja\s+)?(?:paye|regle|vire|fait\s+le\s+(?:virement|paiement)|effectue) | \bdeja\s+(?:paye|regle)
  | \b(?:est|a\s+ete|ont\s+ete|sont)\s+(?:deja\s+)?(?:payee?s?|reglee?s?)
  | \bvirement\s+(?:effectue|fait|envoye|parti) | \bnous\s+avons\s+(?:deja\s+)?(?:paye|regle|vire)
  | \b(?:reglement|cheque|virement|paiement)\s+(?:a\s+ete\s+)?(?:envoye|poste|expedie|parti|effectue)
  | \bpaiement\s+(?:effectue|envoye|fait)
  | \bya\s+(?:lo\s+|la\s+|le\s+)?(?:pague|pagamos|esta\s+pagad|realice
        |hice\s+(?:el\s+|la\s+)?(?:pago|transferencia)|transferi|deposite)
  | \bpague\b | \bpagamos\b | \b(?:he|hemos)\s+pagado | \besta\s+pagad | \bpago\s+(?:realizado|hecho|efectuado)
  | \bhice\s+(?:el\s+|la\s+|un\s+)?(?:pago|transferencia|deposito) | \btransferi\b | \bdeposite\b
  | \bja\s+(?:foi\s+)?(?:paguei|pagamos|pago|quitad|fiz\s+o\s+(?:pix|pagamento)|transferi|depositei) | \bpaguei\b
  | \bfiz\s+o\s+(?:pix|pagamento|deposito|ted|transferencia)\b(?!\s+(?:amanha|depois|na|no\s+dia))
  | \bpagamento\s+(?:feito|efetuado|realizado|enviado) | \bfoi\s+pag[oa] | \bestao?\s+pag[oa]s?\b | \btransferi\b
  | \bdepositei
  | \bsudah\s+(?:saya\s+|kami\s+)?(?:bayar|dibayar|membayar|transfer|ditransfer|lunas|lunasi|melunasi|kirim\s+uang)
  | \btelah\s+(?:saya\s+|kami\s+)?(?:bayar|dibayar|membayar|transfer|ditransfer|lunas) | \bsdh\s+(?:bayar|transfer|tf)
  | \budah\s+(?:bayar|transfer|tf|lunas) | \b(?:sudah|telah)\s+(?:saya\s+|kami\s+)?kirim
  | \b(?:transfer|pembayaran|uang)\s+sudah\s+(?:masuk|dikirim|terkirim)
"""

PROMISE = r"""
    \b(?:i|we)\s*(?:'ll|\s+will|\s+shall|'m\s+going\s+to|\s+am\s+going\s+to|\s+are\s+going\s+to|\s+can|\s+could)\s+(?:\w+\s+)?(?:pay|settle|transfer|send|wire)
  | \bwill\s+(?:be\s+)?(?:pay|paid|settle|transfer|send)
  | \bpay(?:ing)?\s+(?:you\s+)?(?:it\s+)?(?:on|by|before|next|tomorrow|today|this|friday|monday|at\s+the\s+end)
  | \bpayment\s+(?:will|is\s+coming|coming)
  | \b(?:funds|payment|money|check|cheque)\s+should\s+(?:be|arrive|hit|reach) | \bget\s+(?:this|it|that|them)\s+paid
  | \bexpect\s+(?:the\s+)?payment | \bgive\s+me\s+until | \bpaierai
  | \bvous\s+recevrez\s+(?:le\s+)?(?:paiement|reglement|virement) | \bje\s+vous\s+regle\b | \bpaierons
  | \bvais\s+(?:vous\s+)?(?:payer|regler|faire\s+le\s+virement|virer) | \breglerai | \bvirerai | \bje\s+paie\b
  | \ballons\s+(?:payer|regler) | \bpaiement\s+(?:arrive|partira|sera) | \bvirement\s+(?:partira|sera|arrive)
  | \bpagare\b | \bpagaremos | \bvoy\s+a\s+(?:pagar|transferir|hacer\s+(?:el\s+)?(?:pago|transferencia))
  | \bvamos\s+a\s+pagar | \bte\s+pago | \b(?:le|te|les)\s+(?:transfiero|deposito)
  | \b(?:realizo|hago)\s+(?:el\s+)?(?:pago|deposito|transferencia) | \bpago\s+sale | \ble\s+pago | \bles\s+pago
  | \bpuedo\s+pagar | \bpodre\s+pagar | \bpago\s+(?:el|manana|hoy|esta|la)
  | \bvou\s+(?:pagar|transferir|fazer\s+o\s+(?:pix|pagamento)|quitar) | \bpagarei | \bpagaremos | \bvamos\s+pagar
  | \beu\s+pago | \bdeposito\s+(?:amanha|hoje|na|no|dia) | \bpago\s+(?:amanha|hoje|na|no|dia|ate|semana)
  | \bfaco\s+o\s+(?:pix|pagamento) | \bconsigo\s+pagar
  | \bakan\s+(?:saya\s+|kami\s+)?(?:bayar|dibayar|membayar|transfer|lunasi|melunasi|ditransfer)
  | \b(?:bayar|transfer|tf|lunasi)\s+(?:besok|lusa|nanti|minggu|tanggal|tgl|hari|bulan
        |senin|selasa|rabu|kamis|jumat|sabtu|minggu|akhir)
  | \bsaya\s+(?:bayar|transfer|lunasi) | \b(?:besok|lusa|nanti)\s+(?:saya\s+|kami\s+)?(?:bayar|transfer|lunasi)
  | \bkami\s+(?:bayar|transfer|lunasi) | \bdibayar\s+(?:besok|lusa|nanti|tanggal|minggu)
"""

PAY_VERB = r"""
    \b(?:pay|paid|payment|check|cheque|deposit|funds|pag|paye|paie|regl
    |virement|transf|bayar|pembayaran|pix|lunas|tf)
"""

_FLAGS = re.VERBOSE | re.IGNORECASE
DISPUTE_RE, PLAN_RE, NOT_PAID_RE, PAID_RE, PROMISE_RE = (
    re.compile(pattern, _FLAGS) for pattern in (DISPUTE, PLAN, NOT_PAID, PAID, PROMISE)
)
PAY_VERB_RE = re.compile(PAY_VERB, _FLAGS)

# === AMOUNTS === #

CURRENCY = (
    r"(?:R\$|US\$|\$|€|£|Rp\.?|IDR|USD|EUR|BRL|GBP|MXN|COP|ARS|CLP|PEN|"
    r"euros?|dolares|dollars?|reais|real|rupiah|pesos?|soles)"
)
NUMBER = r"(?:\d{1,3}(?:[.,\s\u00a0\u202f]\d{3})+|\d+)(?:[.,]\d{1,2})?"
AMOUNT_RE = re.compile(
    rf"(?:(?<![\w$€£]){CURRENCY}\s?(?P<before>{NUMBER})(?:\s?(?P<scale1>k|rb|ribu|jt|juta)\b)?"
    rf"|(?<![\w./,-])(?P<after>{NUMBER})\s?(?:(?P<scale2>k|rb|ribu|jt|juta)\b\s?)?{CURRENCY}(?!\w)"
    rf"|(?<![\w./,-])(?P<bare>\d+(?:[.,]\d{{1,3}})?)\s?(?P<scale3>rb|ribu|jt|juta)\b)",
    re.IGNORECASE,
)
SCALES = {"k": 1e3, "rb": 1e3, "ribu": 1e3, "jt": 1e6, "juta": 1e6}


def parse_number(raw):
    """A number written with either decimal mark: "1.234,56", "1,234.56",
    "1 234,56", "1.500.000", "12,5", "12.50" -> float. A lone separator
    followed by exactly three digits groups thousands ("1.500", "1,500")."""
    raw = re.sub(r"[\s\u00a0\u202f]", "", raw)
    marks = [char for char in raw if char in ".,"]
    if not marks:
        return float(raw)
    last = raw.rfind(marks[-1])
    decimals = raw[last + 1 :]
    if len(set(marks)) == 2 or (len(marks) == 1 and len(decimals) != 3):
        return float(re.sub(r"[.,]", "", raw[:last]) + "." + decimals)
    return float(re.sub(r"[.,]", "", raw))


def find_amount(text):
    """``(amount or None, text without the amounts)``: the largest amount
    written with a currency (sign, code or name) or an Indonesian scale
    ("500 ribu", "2,5 juta"). A bare number is never an amount: it is a day,
    an invoice number or a count of instalments as often."""
    amounts = []
    for match in AMOUNT_RE.finditer(text):
        raw = match["before"] or match["after"] or match["bare"]
        scale = match["scale1"] or match["scale2"] or match["scale3"]
        if scale:  # "2,5 juta": the comma is a decimal mark before a scale
            value = float(raw.replace(".", "").replace(",", ".")) if raw.count(",") == 1 else parse_number(raw)
            value *= SCALES[scale.lower()]
        else:
            value = parse_number(raw)
        amounts.append(value)
    if not amounts:
        return None, text
    return round(max(amounts), 2), AMOUNT_RE.sub(" ", text)


# === DATES === #

DAY_OF_MONTH_RE = re.compile(
    r"\b(?:on\s+the|the|by\s+the|dia|no\s+dia|ate\s+o\s+dia|el\s+dia|el|le|au|avant\s+le|tanggal|tgl\.?|sebelum\s+tanggal)"
    r"\s+(\d{1,2})(?:st|nd|rd|th|er|º|o)?\b(?!\s*(?:[/.-]\d|de\s+[a-z]|[a-z]{3,}))",
    re.IGNORECASE,
)
AFTER_TOMORROW_RE = re.compile(
    r"\b(?:day\s+after\s+tomorrow|apres[\s-]demain|pasado\s+manana|depois\s+de\s+amanha|lusa)\b", re.IGNORECASE
)
NEXT_WEEK_RE = re.compile(
    r"\b(?:la\s+)?semaine\s+prochaine|\bsemana\s+que\s+(?:vem|viene)|\bproxima\s+semana|\bsemana\s+proxima"
    r"|\bnext\s+week|\bminggu\s+depan",
    re.IGNORECASE,
)
NEXT_MONTH_RE = re.compile(
    r"\b(?:le\s+)?mois\s+prochain|\bmes\s+que\s+(?:vem|viene)|\bproximo\s+mes|\bmes\s+proximo|\bnext\s+month"
    r"|\bbulan\s+depan",
    re.IGNORECASE,
)
END_OF_MONTH_RE = re.compile(
    r"\bend\s+of\s+(?:the\s+|this\s+)?month|\bfin\s+(?:du|de)\s+(?:ce\s+)?mois|\bfin\s+de\s+mes|\bfinal\s+de(?:l)?\s+mes"
    r"|\b(?:fim|final)\s+do\s+mes|\bakhir\s+bulan",
    re.IGNORECASE,
)
DAY_WORD_RE = re.compile(r"\b(?:d[ií]a|tanggal|tgl\.?)\s+(?=\d)", re.IGNORECASE)
""""dia 25 de março": dateparser reads "25 de março", not with the word for "day" before it."""
INVOICE_REF_RE = re.compile(r"\b[A-Za-z]{2,}[A-Za-z0-9]*(?:[/-][A-Za-z]*\d\w*)+\b|#\s?\d+|\b\d{5,}\b")
NOISE_MATCHES = {
    "je", "me", "le", "la", "de", "el", "en", "a", "o", "on", "at", "i", "is", "da", "do", "di", "dia", "sa",
    "se", "mi", "mar", "sab", "dom", "min", "sen", "sel", "kam", "jum", "now", "sec", "second", "second half",
    "mai", "may", "un", "una", "um", "uma", "one",
}  # fmt: skip
"""What dateparser reads as a date in a sentence but is a word: "je" (jeudi),
"mar" (martes), "may" (the verb), "min" (minggu)..."""


def _strip_accents(text):
    text = unicodedata.normalize("NFKD", text)
    return "".join(char for char in text if not unicodedata.combining(char))


def _dateparser_langs(lang):
    code = (lang or "").split("_")[0].lower()
    if code not in LANGS:
        return list(LANGS)
    return [code] + [other for other in LANGS if other != code]


def _day_of_month(day, today, past):
    """The ``day`` of this month, or the next (promise) or the last (paid)
    when this month's is on the wrong side of today."""
    year, month = today.year, today.month
    if past and day > today.day:
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    elif not past and day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if day < 1 or day > calendar.monthrange(year, month)[1]:
        return None
    return datetime.date(year, month, day)


def _add_month(today):
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return datetime.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def find_date(text, lang, today, past):
    """The day a reply names, resolved against ``today``: in the past for a
    payment made, in the future for a promise. ``text`` is free of amounts."""
    plain = _strip_accents(text).lower()
    if AFTER_TOMORROW_RE.search(plain):
        return today + datetime.timedelta(days=2)
    if END_OF_MONTH_RE.search(plain):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if NEXT_WEEK_RE.search(plain):
        return today + datetime.timedelta(days=7)
    if NEXT_MONTH_RE.search(plain):
        return _add_month(today)
    found = _search_dates(DAY_WORD_RE.sub("", INVOICE_REF_RE.sub(" ", text)), lang, today, past)
    if found:
        return found
    match = DAY_OF_MONTH_RE.search(plain)
    if match:
        return _day_of_month(int(match.group(1)), today, past)
    return None


def _search_dates(text, lang, today, past):
    from dateparser.search import search_dates  # noqa: PLC0415 - 0.2 s to import: only when a reply comes

    settings = {
        "PREFER_DATES_FROM": "past" if past else "future",
        "RELATIVE_BASE": datetime.datetime.combine(today, datetime.time(12, 0)),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
    }
    for code in _dateparser_langs(lang):
        if code != "en":
            settings["DATE_ORDER"] = "DMY"
        else:
            settings.pop("DATE_ORDER", None)
        found = search_dates(text, languages=[code], settings=settings) or []
        for words, when in found:
            if _is_noise(words):
                continue
            day = when.date()
            if past and day > today and _is_weekday_alone(words):
                day -= datetime.timedelta(days=7)
            return day
    return None


def _is_noise(words):
    plain = _strip_accents(words).lower().strip(" .,;:!?")
    plain = re.sub(r"^(?:on|le|el|la|na|no|en|pada|hari|o|a)\s+", "", plain)
    return len(plain) < 3 or plain in NOISE_MATCHES or plain.isdigit()


def _is_weekday_alone(words):
    return not any(char.isdigit() for char in words)


# === THE READER === #


def understand(text, lang=None, today=None):
    """What a reply says.

    :param text: the customer's words
    :param lang: the customer's language, an Odoo code (``fr_FR``, ``pt_BR``)
        or None: the other languages are tried when its own finds no date
    :param today: the day the reply came (a ``datetime.date``)
    :return: ``{"kind": one of KINDS, "date": date or None, "amount": float or None}``
    """
    today = today or datetime.date.today()
    text = (text or "").strip()
    result = {"kind": "other", "date": None, "amount": None}
    if not text:
        return result
    amount, rest = find_amount(text)
    plain = " ".join(_strip_accents(rest).lower().replace("’", "'").split())
    kind = _kind(plain)
    if kind == "other" and asks_to_stop(text):
        return {"kind": "stop", "date": None, "amount": None}
    result.update(kind=kind)
    if kind in ("paid", "promise"):
        result["amount"] = amount
        day = find_date(rest, lang, today, past=kind == "paid")
        if kind == "promise" and day and day < today:
            day = find_date(rest, lang, today, past=False)
        result["date"] = day
    elif kind in ("plan", "dispute"):
        result["amount"] = amount
    return result


def _kind(plain):
    """The kind the words make, most specific first: a dispute or a plan
    request needs the accountant whatever else the reply says; then paid
    or promised, told apart by tense, and by the day named when the verb
    says neither ("pago el lunes", "bayar besok", "transfer kemarin")."""
    if DISPUTE_RE.search(plain):
        return "dispute"
    if PLAN_RE.search(plain):
        return "plan"
    not_paid = NOT_PAID_RE.search(plain)
    paid = PAID_RE.search(NOT_PAID_RE.sub(" ", plain)) if not_paid else PAID_RE.search(plain)
    promise = PROMISE_RE.search(plain)
    if paid and promise:
        return "paid" if paid.start() < promise.start() else "promise"
    if paid:
        return "paid"
    if promise:
        return "promise"
    if not_paid:  # "not paid yet" with a day: "not paid yet, Friday"
        return "promise" if _names_a_day(plain) else "other"
    if PAY_VERB_RE.search(plain) and _names_a_day(plain):
        return "promise" if not _names_past_day(plain) else "paid"
    return "other"


PAST_WORDS_RE = re.compile(
    r"\b(?:yesterday|last|ago|sent|mailed|posted|made|hier|dernier|derniere|a\s+ete|envoye|poste|ayer|pasado|hice|fue"
    r"|ontem|passad[oa]|foi|feito|fiz|kemarin|lalu|tadi|sudah|telah)\b",
    re.IGNORECASE,
)
DAY_WORDS_RE = re.compile(
    r"\b(?:today|tomorrow|yesterday|monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|month"
    r"|aujourd'hui|demain|hier|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|semaine|mois"
    r"|hoy|manana|ayer|lunes|martes|miercoles|jueves|viernes|sabado|domingo|semana|mes"
    r"|hoje|amanha|ontem|segunda|terca|quarta|quinta|sexta|sabado|domingo"
    r"|hari\s+ini|besok|kemarin|lusa|senin|selasa|rabu|kamis|jumat|sabtu|minggu|bulan|tanggal|tgl|dia)\b"
    r"|\b\d{1,2}[/.-]\d{1,2}\b",
    re.IGNORECASE,
)


def _names_a_day(plain):
    return bool(DAY_WORDS_RE.search(plain))


def _names_past_day(plain):
    return bool(PAST_WORDS_RE.search(plain))


# === E-MAIL === #

QUOTE_HEADER_RE = re.compile(
    r"^\s*(?:>|-{2,}\s*(?:original|forwarded)|_{5,}"
    r"|(?:on|le|el|em|pada)\b.{0,120}\b(?:wrote|a\s+écrit|escribió|escreveu|menulis)\s*:"
    r"|(?:from|de|dari)\s*:\s.*@)",
    re.IGNORECASE,
)


def strip_quoted(text):
    """The words of an e-mail reply without the message it quotes: the
    lines from the first quote header ("On ... wrote:", "Le ... a écrit :",
    "-----Original Message-----", "From: ...@...") or quoted line ("> ...")."""
    lines = []
    for line in (text or "").splitlines():
        if QUOTE_HEADER_RE.match(line):
            break
        lines.append(line)
    return "\n".join(lines).strip()


# === MEASURE === #


def evaluate(replies, today):
    """Score ``understand`` over a corpus: ``replies`` are dicts with
    ``lang``, ``text`` and the expected ``kind``, ``date`` (ISO or None) and
    ``amount``. Returns the figures ``scripts/replies_accuracy.py`` prints:
    ``{"kind": (right, total), "by_kind": {kind: (right, total)},
    "by_lang": {lang: (right, total)}, "date": (right, total),
    "amount": (right, total), "false_stops": [text, ...], "misses": [...]}``.
    A date or an amount counts where the corpus expects one."""
    figures = {"kind": [0, 0], "by_kind": {}, "by_lang": {}, "by_set": {}, "date": [0, 0], "amount": [0, 0]}
    false_stops, misses = [], []
    for reply in replies:
        got = understand(reply["text"], reply["lang"], today)
        expected_date = reply.get("date") and datetime.date.fromisoformat(reply["date"])
        right_kind = got["kind"] == reply["kind"]
        for counter in (
            figures["kind"],
            figures["by_kind"].setdefault(reply["kind"], [0, 0]),
            figures["by_lang"].setdefault(reply["lang"], [0, 0]),
            figures["by_set"].setdefault(reply.get("set", "first"), [0, 0]),
        ):
            counter[0] += right_kind
            counter[1] += 1
        if expected_date:
            figures["date"][0] += got["date"] == expected_date
            figures["date"][1] += 1
        if reply.get("amount") is not None:
            figures["amount"][0] += got["amount"] is not None and abs(got["amount"] - reply["amount"]) < 0.005
            figures["amount"][1] += 1
        if got["kind"] == "stop" and reply["kind"] != "stop":
            false_stops.append(reply["text"])
        wrong_date = (expected_date or None) != got["date"] and reply["kind"] in ("paid", "promise")
        if not right_kind or wrong_date or (reply.get("amount") is not None and got["amount"] != reply["amount"]):
            misses.append((reply["lang"], reply["text"], reply["kind"], reply.get("date"), got))
    figures["false_stops"] = false_stops
    figures["misses"] = misses
    return figures
