from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import email_normalize
from odoo.tools.translate import LazyTranslate

from ..tools.phone import messaging_number
from ..tools.terms import joined
from .account_payment_reminder_level import CHANNEL_TERMS, CHANNELS, channel_label

_lt = LazyTranslate(__name__)

POSTAL_FIELDS = {"street": _lt("street"), "zip": _lt("zip"), "city": _lt("city"), "country_id": _lt("country")}
"""What a letter's address needs (as Odoo's snailmail.letter._is_valid_address checks)."""


class ResPartner(models.Model):
    _inherit = "res.partner"

    payment_reminder_policy_id = fields.Many2one(
        "account.payment.reminder.policy",
        "Reminder Policy",
        help="Overrides the company's policy for this customer (when it belongs to the invoice's company).",
        tracking=True,
    )
    payment_reminder_exclude = fields.Boolean(
        "No Payment Reminders", help="Never remind this customer automatically.", tracking=True
    )
    payment_reminder_hold_until = fields.Date("Reminders On Hold Until", tracking=True)
    payment_reminder_hold_reason = fields.Char("Hold Reason", tracking=True)
    payment_reminder_optout_email = fields.Boolean("Opted Out of E-mail Reminders")
    payment_reminder_optout_whatsapp = fields.Boolean("Opted Out of WhatsApp Reminders")
    payment_reminder_optout_sms = fields.Boolean("Opted Out of SMS Reminders")
    payment_reminder_optout_letter = fields.Boolean("Opted Out of Letter Reminders")
    payment_reminder_optout_note = fields.Char("Opt-out Note", help="When and how the customer opted out.")
    payment_reminder_optin_date = fields.Datetime(
        "Messaging Opt-in Date", help="When the customer agreed to receive reminders on WhatsApp and SMS."
    )
    payment_reminder_optin_source = fields.Char("Messaging Opt-in Source", help="E.g. signed contract, web form.")
    payment_reminder_wa_last_inbound = fields.Datetime(
        "Last WhatsApp Message Received",
        readonly=True,
        help="Free-form WhatsApp messages may be sent for 24 hours after the customer's last message.",
    )
    payment_reminder_message_ids = fields.One2many(
        "account.payment.reminder.message", "partner_id", string="Payment Reminders"
    )
    payment_reminder_message_count = fields.Integer(compute="_compute_payment_reminder_message_count")
    payment_reminder_promise_ids = fields.One2many("account.payment.reminder.promise", "partner_id", "Promises to Pay")
    payment_reminder_broken_promise_count = fields.Integer(
        "Broken Promises", compute="_compute_payment_reminder_promises"
    )
    payment_reminder_plan_ids = fields.One2many("account.payment.reminder.plan", "partner_id", "Payment Plans")
    payment_reminder_preferred_channel = fields.Selection(
        CHANNELS,
        "Preferred Reminder Channel",
        help="Tried first among a level's channels (the customer chooses it on the reminder page).",
    )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + [
            "payment_reminder_policy_id",
            "payment_reminder_exclude",
            "payment_reminder_hold_until",
            "payment_reminder_hold_reason",
            "payment_reminder_optout_email",
            "payment_reminder_optout_whatsapp",
            "payment_reminder_optout_sms",
            "payment_reminder_optout_letter",
            "payment_reminder_optout_note",
            "payment_reminder_optin_date",
            "payment_reminder_optin_source",
            "payment_reminder_preferred_channel",
        ]

    def _commercial_sync_to_children(self, fields_to_sync=None):
        # the customer's chatter logs a hold or a policy change; its contacts only follow it
        return super(ResPartner, self.with_context(mail_notrack=True))._commercial_sync_to_children(fields_to_sync)

    def _compute_payment_reminder_message_count(self):
        counts = dict(
            self.env["account.payment.reminder.message"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.payment_reminder_message_count = counts.get(partner.commercial_partner_id, 0)

    def _compute_payment_reminder_promises(self):
        for partner in self:
            promises = partner.commercial_partner_id.payment_reminder_promise_ids
            partner.payment_reminder_broken_promise_count = len(promises.filtered(lambda p: p.state == "broken"))

    def action_view_payment_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_reminder.account_payment_reminder_message_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action

    def action_open_payment_reminder_card(self):
        """The customer's collection card (account_payment_reminder_card.py)."""
        self.ensure_one()
        return self.env["account.payment.reminder.card"]._action(self)

    def _payment_reminder_address(self, channel, policy=None):
        """Where this contact gets reminders on ``channel``.

        :return: ``(address, None)`` with an e-mail address or an E.164 number,
            or ``(None, reason)`` with a sentence for the history, kept
            untranslated (a lazy translation) for each reader's language
        """
        self.ensure_one()
        customer = self.commercial_partner_id
        if customer[f"payment_reminder_optout_{channel}"]:
            return None, _lt(
                "%(customer)s opted out of %(channel)s reminders.",
                customer=customer.name,
                channel=CHANNEL_TERMS.get(channel, channel),
            )
        if channel == "email":
            if not self.email:
                return None, _lt("%(contact)s has no e-mail address.", contact=self.display_name)
            # one '@', one address: Odoo's stored normalized address is the same, without parsing it again
            normalized = (self.email.count("@") == 1 and self.email_normalized) or email_normalize(self.email)
            if not normalized:
                return None, _lt(
                    "%(contact)s has an invalid e-mail address: %(email)s", contact=self.display_name, email=self.email
                )
            return normalized, None
        if channel == "letter":
            return self._payment_reminder_postal_address()
        if policy and policy.require_opt_in and not customer.payment_reminder_optin_date:
            return None, _lt("%(customer)s has not opted in to WhatsApp and SMS reminders.", customer=customer.name)
        number, reason = None, "missing"
        for raw in (self.mobile, self.phone):
            if raw:
                number, reason = messaging_number(raw, self.country_id.code or customer.country_id.code)
                if number:
                    return number, None
        if reason == "missing":
            detail = _lt("no mobile number")
        elif reason == "not_mobile":
            detail = _lt("the number cannot receive messages (not a mobile number)")
        else:
            detail = reason
        return None, _lt("%(contact)s: %(reason)s", contact=self.display_name, reason=detail)

    def _payment_reminder_postal_address(self):
        """``(address on one line, None)`` when this contact has the postal
        address a letter needs (what Odoo's postal service requires: street,
        zip, city, country), else ``(None, reason)``."""
        self.ensure_one()
        if self.env["snailmail.letter"]._is_valid_address(self):
            return ", ".join(filter(None, self._display_address(without_company=True).splitlines())), None
        missing = [POSTAL_FIELDS[name] for name in POSTAL_FIELDS if not self[name]]
        return None, _lt(
            "%(contact)s has no complete postal address (missing: %(fields)s).",
            contact=self.display_name,
            fields=joined(missing),
        )

    def _payment_reminder_whatsapp_window_open(self, now=None):
        """True within 24 hours of the customer's last WhatsApp message."""
        self.ensure_one()
        last = self.commercial_partner_id.payment_reminder_wa_last_inbound
        now = now or fields.Datetime.now()
        return bool(last) and now - last < timedelta(hours=24)

    def _payment_reminder_set_opt_out(self, channel, note):
        """Record an opt-out on the commercial partner (STOP reply, provider error)."""
        for customer in self.commercial_partner_id:
            customer.write(
                {
                    f"payment_reminder_optout_{channel}": True,
                    "payment_reminder_optout_note": note,
                }
            )
            customer._message_log(
                body=_(
                    "Opted out of %(channel)s payment reminders: %(note)s",
                    channel=channel_label(self.env, channel),
                    note=note,
                )
            )
