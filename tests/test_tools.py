from datetime import UTC, datetime
from types import SimpleNamespace

from odoo.tests import BaseCase, tagged

from ..exceptions import ReminderOptOutError, ReminderPermanentError, ReminderRetryableError
from ..providers.http import retry_after
from ..providers.twilio.errors import twilio_error
from ..providers.twilio.signature import twilio_signature, verify_twilio_signature
from ..providers.whatsapp.errors import whatsapp_error
from ..providers.whatsapp.signature import verify_meta_signature
from ..tools.keywords import classify
from ..tools.phone import messaging_number
from ..tools.plans import allocate_payments, split_amount
from ..tools.sms import first_non_gsm_char, segment_info, to_gsm

TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


@tagged("post_install", "-at_install")
class TestSmsEncoding(BaseCase):
    def test_gsm7_segments(self):
        self.assertEqual(segment_info(""), ("GSM-7", 0, 0))
        self.assertEqual(segment_info("a" * 160), ("GSM-7", 1, 160))
        self.assertEqual(segment_info("a" * 161), ("GSM-7", 2, 161))
        self.assertEqual(segment_info("a" * 306), ("GSM-7", 2, 306))
        self.assertEqual(segment_info("a" * 307), ("GSM-7", 3, 307))

    def test_extension_characters_count_two_and_are_never_split(self):
        self.assertEqual(segment_info("€" * 80), ("GSM-7", 1, 160))
        self.assertEqual(segment_info("€" * 81), ("GSM-7", 2, 162))
        self.assertEqual(segment_info("[]{}~^|\\"), ("GSM-7", 1, 16))
        # 152 septets, then an escape pair that does not fit the first segment's 153:
        # it opens the second segment, which costs a third one for 306 septets
        self.assertEqual(segment_info("a" * 152 + "€" + "a" * 151), ("GSM-7", 2, 305))
        self.assertEqual(segment_info("a" * 152 + "€" + "a" * 152), ("GSM-7", 3, 306))
        self.assertEqual(segment_info("a" * 151 + "€" + "a" * 153), ("GSM-7", 2, 306))

    def test_one_character_turns_the_message_into_ucs2(self):
        self.assertEqual(segment_info("a" * 70), ("GSM-7", 1, 70))
        self.assertEqual(segment_info("a" * 69 + "ç"), ("UCS-2", 1, 70))
        self.assertEqual(segment_info("a" * 70 + "ç"), ("UCS-2", 2, 71))
        self.assertEqual(segment_info("ç" * 134), ("UCS-2", 2, 134))
        self.assertEqual(segment_info("ç" * 135), ("UCS-2", 3, 135))
        # an emoji is a surrogate pair: two units, never split
        self.assertEqual(segment_info("a" * 66 + "😀" + "a" * 65), ("UCS-2", 2, 133))
        self.assertEqual(segment_info("a" * 66 + "😀" + "a" * 66), ("UCS-2", 3, 134))
        self.assertEqual(segment_info("a" * 65 + "😀" + "a" * 67), ("UCS-2", 2, 134))

    def test_french_characters(self):
        self.assertEqual(first_non_gsm_char("Échéance reçue"), "ç")
        self.assertEqual(first_non_gsm_char("l’échéance"), "’")
        self.assertEqual(first_non_gsm_char("dû"), "û")
        self.assertIsNone(first_non_gsm_char("Ça coûte 5 € [promo]".replace("û", "u")))
        self.assertEqual(to_gsm("l’échéance – “ok”…"), 'l\'échéance - "ok"...')
        self.assertEqual(segment_info(to_gsm("l’échéance")).encoding, "GSM-7")


@tagged("post_install", "-at_install")
class TestSignatures(BaseCase):
    def test_meta_signature(self):
        body = b"The quick brown fox jumps over the lazy dog"
        good = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        self.assertTrue(verify_meta_signature(body, good, "key"))
        self.assertFalse(verify_meta_signature(body, good, "other key"))
        self.assertFalse(verify_meta_signature(body + b" ", good, "key"))
        self.assertFalse(verify_meta_signature(body, good.removeprefix("sha256="), "key"))
        self.assertFalse(verify_meta_signature(body, "", "key"))
        self.assertFalse(verify_meta_signature(body, good, ""))

    def test_twilio_signature_reference_vectors(self):
        # the reference values of Twilio's own request validator tests
        self.assertEqual(twilio_signature(TWILIO_URL, TWILIO_PARAMS, "12345"), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        self.assertTrue(verify_twilio_signature(TWILIO_URL, TWILIO_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"))
        duplicate = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234"]}
        self.assertEqual(twilio_signature(TWILIO_URL, duplicate, "12345"), "IK+Dwps556ElfBT0I3Rgjkr1wJU=")

    def test_twilio_ports_added_or_removed_by_proxies(self):
        with_port = TWILIO_URL.replace(".com", ".com:1234")
        self.assertTrue(verify_twilio_signature(with_port, TWILIO_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"))
        self.assertTrue(verify_twilio_signature(TWILIO_URL, TWILIO_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=", "12345"))

    def test_twilio_forgeries(self):
        self.assertFalse(verify_twilio_signature(TWILIO_URL, TWILIO_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321"))
        tampered = dict(TWILIO_PARAMS, Digits="9999")
        self.assertFalse(verify_twilio_signature(TWILIO_URL, tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"))
        self.assertFalse(verify_twilio_signature(TWILIO_URL, TWILIO_PARAMS, "", "12345"))


@tagged("post_install", "-at_install")
class TestPhonesAndKeywords(BaseCase):
    def test_messaging_numbers(self):
        self.assertEqual(messaging_number("0470 12 34 56", "BE"), ("+32470123456", None))
        self.assertEqual(messaging_number("+32 470 12 34 56"), ("+32470123456", None))
        self.assertEqual(messaging_number("(415) 555-0134", "US"), ("+14155550134", None), "US: fixed line or mobile")
        self.assertEqual(messaging_number("0033 6 12 34 56 78", "BE"), ("+33612345678", None))
        self.assertEqual(messaging_number("+32 2 555 12 12"), (None, "not_mobile"))
        self.assertEqual(messaging_number(""), (None, "missing"))
        number, reason = messaging_number("12", "BE")
        self.assertIsNone(number)
        self.assertIn("12", reason)
        number, reason = messaging_number("0470 12 34 56")
        self.assertIsNone(number, "a national number without a country cannot be read")
        self.assertTrue(reason)

    def test_keywords(self):
        for word in ("STOP", "stop", " Stop! ", "Arrêt", "ARRETER", "baja", "Parar", "sair", "Berhenti", "unsubscribe"):
            self.assertEqual(classify(word), "stop", word)
        for word in ("START", "unstop", "Démarrer", "mulai"):
            self.assertEqual(classify(word), "start", word)
        for text in ("Please stop sending me this", "I have paid", "", None):
            self.assertIsNone(classify(text), text)


@tagged("post_install", "-at_install")
class TestPlanSplit(BaseCase):
    def test_remainder_spread_cent_by_cent(self):
        shares = split_amount(100.0, 7, 0.01)
        self.assertEqual(shares, [14.29, 14.29, 14.29, 14.29, 14.28, 14.28, 14.28])
        self.assertAlmostEqual(sum(shares), 100.0, places=6)
        self.assertEqual(split_amount(10.0, 6, 0.01), [1.67, 1.67, 1.67, 1.67, 1.66, 1.66])
        self.assertEqual(split_amount(900.0, 3, 0.01), [300.0, 300.0, 300.0])
        self.assertEqual(split_amount(0.07, 7, 0.01), [0.01] * 7)
        self.assertEqual(split_amount(0.25, 2, 0.05), [0.15, 0.1])

    def test_zero_and_three_decimal_currencies(self):
        self.assertEqual(split_amount(1000.0, 3, 1.0), [334.0, 333.0, 333.0])
        self.assertEqual(split_amount(100000.0, 7, 1.0), [14286.0] * 5 + [14285.0] * 2)
        self.assertEqual(split_amount(100.0, 3, 0.001), [33.334, 33.333, 33.333])
        self.assertEqual(split_amount(1.0, 7, 0.001), [0.143] * 6 + [0.142])

    def test_never_a_zero_instalment(self):
        for total, count, rounding in (
            (0.06, 7, 0.01),
            (2.0, 3, 1.0),
            (0.0, 1, 0.01),
            (-10.0, 2, 0.01),
            (10.0, 0, 0.01),
        ):
            with self.subTest(total=total, count=count), self.assertRaises(ValueError):
                split_amount(total, count, rounding)

    def test_a_payment_of_several_invoices_counts_once(self):
        # 700 paid on two invoices of 500 and 400: 500 on the older, 200 on the other, never 700 on each
        covered = allocate_payments({"old": 500.0, "new": 400.0}, [(700.0, [("old", 1.0), ("new", 1.0)])])
        self.assertEqual(covered, {"old": 500.0, "new": 200.0})
        # a second payment takes what the first left open; what is more than due is not counted
        covered = allocate_payments(
            {"old": 500.0, "new": 400.0}, [(300.0, [("old", 1.0)]), (900.0, [("old", 1.0), ("new", 1.0)])]
        )
        self.assertEqual(covered, {"old": 500.0, "new": 400.0})
        # in the invoice's currency: 100 USD paid on an invoice in EUR at 0.5 EUR per USD
        self.assertEqual(allocate_payments({"eur": 80.0}, [(100.0, [("eur", 0.5)])]), {"eur": 50.0})


@tagged("post_install", "-at_install")
class TestProviderErrors(BaseCase):
    def test_meta_errors_are_typed(self):
        def meta(code):
            return {"error": {"code": code, "message": "from Meta"}}

        limited = whatsapp_error(400, meta(130429), retry_after=60)
        self.assertIsInstance(limited, ReminderRetryableError)
        self.assertEqual((limited.code, limited.retry_after), ("130429", 60))
        self.assertIsInstance(whatsapp_error(503, {}), ReminderRetryableError)
        self.assertIsInstance(whatsapp_error(400, meta(131050)), ReminderOptOutError)
        unknown = whatsapp_error(404, meta(132001))
        self.assertIsInstance(unknown, ReminderPermanentError)
        self.assertNotIsInstance(unknown, ReminderOptOutError)

    def test_twilio_errors_are_typed(self):
        limited = twilio_error(20429, 429, {"message": "Too Many Requests"}, retry_after=5)
        self.assertIsInstance(limited, ReminderRetryableError)
        self.assertEqual((limited.code, limited.retry_after, limited.detail), ("20429", 5, "Too Many Requests"))
        self.assertIsInstance(twilio_error(21610, 400), ReminderOptOutError)
        self.assertIsInstance(twilio_error(21211, 400), ReminderPermanentError)
        self.assertIsInstance(twilio_error(None, 500), ReminderRetryableError)

    def test_retry_after_in_seconds_or_as_a_date(self):
        def response(value):
            return SimpleNamespace(headers={"Retry-After": value} if value is not None else {})

        now = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
        self.assertEqual(retry_after(response("120")), 120)
        self.assertEqual(retry_after(response("Tue, 07 Apr 2026 09:02:30 GMT"), now=now), 150)
        self.assertEqual(retry_after(response("Tue, 07 Apr 2026 08:00:00 GMT"), now=now), 0)
        self.assertIsNone(retry_after(response("soon")))
        self.assertIsNone(retry_after(response(None)))
