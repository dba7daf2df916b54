from odoo import api, fields, models

from ..tools.sms import first_non_gsm_char, segment_info


def describe_encoding(env, text):
    """A sentence for the user: encoding, segments, and the character that
    forces UCS-2 (which halves what a segment holds)."""
    info = segment_info(text or "")
    culprit = first_non_gsm_char(text or "")
    if culprit:
        return env._(
            "%(segments)s segment(s), %(units)s characters, UCS-2 because of '%(char)s' (U+%(code)04X)",
            segments=info.segments,
            units=info.units,
            char=culprit,
            code=ord(culprit),
        )
    return env._("%(segments)s segment(s), %(units)s characters, GSM-7", segments=info.segments, units=info.units)


class SmsTemplate(models.Model):
    _inherit = "sms.template"

    payment_reminder_encoding = fields.Char(
        "SMS Encoding",
        compute="_compute_payment_reminder_encoding",
        help="Segments of the template text as written; placeholders change the final count.",
    )

    @api.depends("body")
    def _compute_payment_reminder_encoding(self):
        for template in self:
            template.payment_reminder_encoding = describe_encoding(template.env, template.body)
