"""The reader of customers' replies (tools/replies.py) over the corpus of
tests/data/replies_corpus.json, and the replies on each channel becoming
proposals the accountant confirms in one click."""

import datetime
import json
from pathlib import Path

from odoo.tests import BaseCase, tagged

from ..tools.replies import evaluate, find_amount, understand

CORPUS = Path(__file__).parent / "data" / "replies_corpus.json"
WEDNESDAY = datetime.date(2026, 3, 11)


@tagged("post_install", "-at_install")
class TestRepliesReader(BaseCase):
    def test_corpus_meets_the_targets(self):
        """Kind right for at least 90 % of the replies (and of each language),
        dates right for at least 90 % of those that carry one, and never an
        opt-out the customer did not ask for."""
        corpus = json.loads(CORPUS.read_text())
        self.assertGreaterEqual(len(corpus["replies"]), 150)
        self.assertEqual({reply["lang"] for reply in corpus["replies"]}, {"en_US", "fr_FR", "es_ES", "pt_BR", "id_ID"})
        figures = evaluate(corpus["replies"], datetime.date.fromisoformat(corpus["today"]))
        misses = "\n".join(
            f"{text!r}: expected {kind} {date}, got {got}" for _l, text, kind, date, got in figures["misses"]
        )
        right, total = figures["kind"]
        self.assertGreaterEqual(right / total, 0.9, misses)
        for lang, (right, total) in figures["by_lang"].items():
            self.assertGreaterEqual(right / total, 0.9, f"{lang}:\n{misses}")
        right, total = figures["date"]
        self.assertGreaterEqual(right / total, 0.9, misses)
        right, total = figures["amount"]
        self.assertGreaterEqual(right / total, 0.9, misses)
        self.assertEqual(figures["false_stops"], [])

    def test_exact_cases(self):
        cases = [
            ("I paid yesterday", "en_US", "paid", datetime.date(2026, 3, 10), None),
            ("je paierai vendredi", "fr_FR", "promise", datetime.date(2026, 3, 13), None),
            ("¿puedo pagar en cuotas?", "es_ES", "plan", None, None),
            ("Amanhã eu pago", "pt_BR", "promise", datetime.date(2026, 3, 12), None),
            ("tagihan ini salah", "id_ID", "dispute", None, None),
            ("Pago dia 10", "pt_BR", "promise", datetime.date(2026, 4, 10), None),
            ("Paguei dia 10", "pt_BR", "paid", datetime.date(2026, 3, 10), None),
            ("Je réglerai le 15 décembre", "fr_FR", "promise", datetime.date(2026, 12, 15), None),
            ("Saya bayar besok", "id_ID", "promise", datetime.date(2026, 3, 12), None),
            ("I will pay 1.234,56 € on Friday", "en_US", "promise", datetime.date(2026, 3, 13), 1234.56),
            ("Already paid $1,234.56 on 03/05", "en_US", "paid", datetime.date(2026, 3, 5), 1234.56),
            ("Sudah transfer Rp 1.500.000 kemarin", "id_ID", "paid", datetime.date(2026, 3, 10), 1500000.0),
            ("STOP", "en_US", "stop", None, None),
            ("please stop sending me these", "en_US", "stop", None, None),
            ("Para de enviar mensagem", "pt_BR", "stop", None, None),
        ]
        for text, lang, kind, date, amount in cases:
            with self.subTest(text=text):
                self.assertEqual(understand(text, lang, WEDNESDAY), {"kind": kind, "date": date, "amount": amount})

    def test_language_unknown_tries_them_all(self):
        self.assertEqual(understand("je paierai vendredi", None, WEDNESDAY)["date"], datetime.date(2026, 3, 13))
        self.assertEqual(understand("Saya bayar besok", "de_DE", WEDNESDAY)["date"], datetime.date(2026, 3, 12))

    def test_stop_only_on_a_stop_request(self):
        """A reply that says something else is never an opt-out, even with
        "stop" in it; a question or a thank-you neither."""
        for text in (
            "Stop! I already paid yesterday",
            "I'll stop by your office on Monday to pay",
            "Arrêtez, j'ai déjà payé !",
            "Dejen de molestar, ya pagamos ayer",
            "Can I pay in installments? Stop the late fee please",
            "Thanks",
            "Bisa kirim ulang invoicenya?",
        ):
            with self.subTest(text=text):
                self.assertNotEqual(understand(text, "en_US", WEDNESDAY)["kind"], "stop")

    def test_amounts_with_either_decimal_mark(self):
        for text, amount in (
            ("1.234,56 €", 1234.56),
            ("$1,234.56", 1234.56),
            ("R$ 1.500", 1500.0),
            ("Rp 1.500.000", 1500000.0),
            ("1 234,56 EUR", 1234.56),
            ("12,50 €", 12.5),
            ("2,5 juta", 2500000.0),
            ("invoice INV/2026/00012 for 10 units", None),
        ):
            with self.subTest(text=text):
                self.assertEqual(find_amount(text)[0], amount)
