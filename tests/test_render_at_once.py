"""The scheduler renders the e-mails of a batch at once (the QWeb body
compiled once per language): each message reads exactly as when rendered
alone, in its own language, with its own variables."""

from datetime import date

from odoo.tests import tagged

from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestRenderAtOnce(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.customers = cls.customer | cls.env["res.partner"].create(
            [
                {"name": "Deco Addict", "email": "ap@deco.example", "lang": "fr_FR", "tz": "Europe/Paris"},
                {"name": "Gemini Furniture", "email": "ap@gemini.example", "lang": "en_US", "tz": "UTC"},
            ]
        )
        for customer, amounts in zip(cls.customers, ([120.0, 80.0], [300.0], [45.5, 10.0, 99.0]), strict=True):
            for day, amount in enumerate(amounts, start=1):
                cls.create_invoice(partner=customer, due=date(2026, 3, day), amount=amount)

    def queue(self):
        """The batch's messages, queued and rendered as the scheduler does."""
        with self.frozen("2026-04-07 09:00"):
            groups = self.Run._decide(self.customers.ids, self.utc(2026, 4, 7, 9, 0))
            messages = self.Run._apply(groups)
        self.assertEqual(len(messages), 3)
        self.assertEqual(len(messages.level_id.mail_template_id), 1, "one template, rendered at once")
        return messages

    def assertReadsAsAlone(self, messages):
        template = messages.level_id.mail_template_id
        with self.frozen("2026-04-07 09:00"):
            at_once = messages._render_bodies_at_once(template)
            for message in messages:
                alone = template._render_field("body_html", message.ids, compute_lang=True)[message.id]
                self.assertEqual(at_once[message.id], alone, message.partner_id.name)
                self.assertEqual(message.body_html, alone, "the scheduler stored the same")

    def test_each_message_reads_as_when_rendered_alone(self):
        messages = self.queue()
        self.assertReadsAsAlone(messages)
        self.assertIn("45.50", messages.filtered(lambda m: m.partner_id.name == "Gemini Furniture").body_html)

    def test_a_variable_set_by_one_message_does_not_reach_the_next(self):
        self.policy.catch_up = True  # the final notice's template, for invoices a month overdue never reminded
        template = self.level_final.mail_template_id.copy({"name": "Final notice (edited)"})
        body = (
            '<p><t t-if="object.move_count &gt; 1" t-set="several" t-value="True"/>'
            "<t t-out=\"'several invoices' if several else 'one invoice'\"/> for <t t-out=\"object.partner_id.name\"/>"
            "</p>"
        )
        for lang in ("en_US", "fr_FR"):  # the copy keeps the original's French: the edit is in both languages
            template.with_context(lang=lang).body_html = body
        self.level_final.mail_template_id = template
        messages = self.queue()
        self.assertReadsAsAlone(messages)
        single = messages.filtered(lambda m: m.move_count == 1)
        self.assertIn("one invoice", single.body_html)
