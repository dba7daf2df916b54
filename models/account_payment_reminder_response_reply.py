"""Replies to reminders, on every channel: an SMS, a WhatsApp message or an
e-mail answering a reminder is read by ``tools/replies.py`` and becomes a
response, with the reminder it answers and its invoices:

- a promise to pay, a dispute, a payment plan request or "says paid" is a
  proposal (``reply_to_confirm``) that the accountant confirms in one click
  (``action_confirm_reply``) or corrects in the form first; its invoices wait
  for the review, as when the customer says the same on the reminder page;
- a promise within the policy's limits is applied at once when the policy
  says so (``reply_promise_auto``), and the customer is told;
- a request to stop is an opt-out from the channel it came on, and nothing
  else ever is;
- anything else is a reply for the accountant to read, as before.
"""

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from ..tools.pipeline import ReminderGroup
from ..tools.replies import strip_quoted, understand
from .account_move import OPEN_INVOICE_DOMAIN, open_invoice_domain_text
from .account_payment_reminder_level import CHANNELS, channel_label
from .account_payment_reminder_policy import is_real_user
from .account_payment_reminder_response import TEXT_MAX

PROPOSALS = ("promise", "plan", "paid", "dispute")
"""The kinds of reply the accountant confirms: each has its one-click action."""


class AccountPaymentReminderResponse(models.Model):
    _inherit = "account.payment.reminder.response"

    kind = fields.Selection(selection_add=[("reply", "Other reply")], ondelete={"reply": "cascade"})
    reply_channel = fields.Selection(
        CHANNELS, "Replied On", readonly=True, help="The channel the customer answered a reminder on."
    )
    reply_to_confirm = fields.Boolean(
        "To Confirm",
        readonly=True,
        index="btree_not_null",
        help="Read from the customer's words: confirm it, or correct the kind, date or amount first.",
    )
    promise_date = fields.Date("Promised Date", readonly=True)
    # the accountant may correct a reply's invoices: the customer's open ones
    move_ids = fields.Many2many(domain=open_invoice_domain_text("('commercial_partner_id', '=', partner_id)"))

    # === THE ACCOUNTANT'S ONE CLICK === #

    def action_confirm_reply(self):
        """Confirm what the reply was read as (or corrected to): the promise
        is recorded, the dispute holds the invoices, the plan request opens
        the plan proposal, "says paid" asks to check the bank."""
        action = True
        for response in self.filtered("reply_to_confirm"):
            action = response._confirm_reply()
        return action

    def action_dismiss_reply(self):
        """Not what it was read as: the reply is only read, the invoices'
        hold is lifted."""
        for response in self.filtered("reply_to_confirm"):
            response.write({"kind": "reply", "reply_to_confirm": False})
        return self.action_resume_reminders()

    def _confirm_reply(self):
        self.ensure_one()
        if self.kind not in PROPOSALS:
            raise UserError(_("Choose what the customer asks for: a promise, a plan, a dispute, or paid."))
        self.activity_feedback(["mail.mail_activity_data_todo"], feedback=_("Confirmed"))
        self.reply_to_confirm = False
        return getattr(self, f"_confirm_reply_{self.kind}")()

    def _confirm_reply_promise(self):
        self._apply_promise()
        return True

    def _confirm_reply_dispute(self):
        self.hold_until = self._hold(self._get_reply_policy(), self.move_ids, _("Disputed by the customer"))
        self._schedule_review(_("%(customer)s disputes these invoices: review", customer=self.partner_id.name))
        return True

    def _confirm_reply_paid(self):
        self.hold_until = self._hold(self._get_reply_policy(), self.move_ids, _("Reported as paid by the customer"))
        summary = _("%(customer)s says these invoices are paid: check the bank", customer=self.partner_id.name)
        if self.payment_date:
            summary = _(
                "%(customer)s says these invoices were paid on %(date)s: check the bank",
                customer=self.partner_id.name,
                date=self._format_date(self.payment_date),
            )
        self._schedule_review(summary)
        return True

    def _confirm_reply_plan(self):
        """Open the plan proposal on the reply's invoices; the invoices stay
        on hold meanwhile, the response is done."""
        self.state = "done"
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.payment.reminder.plan.propose",
            "name": _("Propose a Payment Plan"),
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": "account.move",
                "active_ids": self.move_ids.ids,
                "default_channel": self.reply_channel or "email",
            },
        }

    def _apply_promise(self):
        """Record the promise the reply makes (its date, its amount or all
        that is due), lift the review hold (the promise holds the invoices
        now) and tell the customer."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        if not self.promise_date or self.promise_date < today:
            raise UserError(_("Set the promised date, from today on."))
        promise = self.env["account.payment.reminder.promise"].create(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "currency_id": (self.currency_id or self.company_id.currency_id).id,
                "move_ids": [fields.Command.set(self.move_ids.ids)],
                "date": self.promise_date,
                "amount": self.amount or 0.0,
                "source": "reply",
                "user_id": self.user_id.id,
                "note": self.note,
            }
        )
        self._release_hold()
        self.write({"promise_id": promise.id, "amount": promise.amount, "state": "done", "hold_until": False})
        self._tell_customer_promise()
        return promise

    # === A REPLY COMES IN === #

    @api.model
    def _record_reply(self, customer, channel, words, reminder=None, sender=None):
        """Read a reply to ``reminder`` (or to the customer's last reminder)
        and record what it says. Returns the response.

        :param customer: the commercial partner who answered
        :param sender: the number or address it came from, for the chatter
        """
        Message = self.env["account.payment.reminder.message"]
        reminder = reminder or Message.search([("partner_id", "=", customer.id)], limit=1)
        words = (words or "").strip()[:TEXT_MAX]
        # "tomorrow" is the customer's tomorrow
        today = fields.Date.context_today(
            self.with_context(tz=customer.tz or reminder.tz or self.env.context.get("tz"))
        )
        lang = customer.lang or reminder.lang or self.env.lang
        reading = understand(words, lang, today)
        moves = self._get_reply_moves(customer, reminder)
        company = reminder.company_id or moves.company_id[:1] or customer.company_id or self.env.company
        currency = moves.currency_id[:1] or company.currency_id
        kind = reading["kind"]
        values = {
            "kind": {"stop": "preferences", "other": "reply"}.get(kind, kind),
            "state": "done" if kind == "stop" else "to_review",
            "partner_id": customer.id,
            "company_id": company.id,
            "message_id": reminder.id,
            "move_ids": [fields.Command.set(moves.ids)],
            "user_id": self._get_reply_user(customer, reminder).id,
            "note": words or False,
            "reply_channel": channel,
            "reply_to_confirm": kind in PROPOSALS,
            "currency_id": currency.id,
            "amount": reading["amount"] or 0.0,
        }
        if kind == "promise":
            values["promise_date"] = reading["date"]
        elif kind == "paid":
            values["payment_date"] = reading["date"] if reading["date"] and reading["date"] <= today else False
        response = self.create(values)
        reminder._record_response(response)
        if kind == "stop":
            customer._payment_reminder_set_opt_out(
                channel,
                _(
                    "Replied %(text)s on %(date)s",
                    text=words[:200],
                    date=fields.Datetime.to_string(fields.Datetime.now()),
                ),
            )
            response._log_reply(sender)
            return response
        policy = response._get_reply_policy()
        if kind == "promise" and policy.reply_promise_auto and response._promise_within_limits(policy):
            response._log_reply(sender)
            response.reply_to_confirm = False
            response._apply_promise()
            return response
        if kind in PROPOSALS and moves:
            response.hold_until = self._hold(policy, moves, _("Replied: %(text)s", text=words[:200]))
        customer._payment_reminder_pause_after_reply(channel, words)
        response._log_reply(sender)
        response._schedule_review(response._get_review_summary())
        return response

    @api.model
    def _get_reply_moves(self, customer, reminder):
        """The invoices a reply is about: those of the reminder it answers
        that are still open, else all the customer's open invoices."""
        Move = self.env["account.move"]
        moves = reminder.move_ids.filtered_domain(OPEN_INVOICE_DOMAIN) if reminder else Move
        if moves:
            return moves
        domain = OPEN_INVOICE_DOMAIN + [("commercial_partner_id", "=", customer.id)]
        if reminder.company_id:
            domain.append(("company_id", "=", reminder.company_id.id))
        return Move.search(domain)

    @api.model
    def _get_reply_user(self, customer, reminder):
        """Who reviews the reply: the reminder's sender, else the invoice's
        salesperson, else the policy's responsible."""
        user = next((u for u in (reminder.user_id, reminder.move_ids[:1].invoice_user_id) if is_real_user(u)), None)
        if user:
            return user
        policy = reminder.policy_id or customer.company_id.payment_reminder_policy_id
        policy = policy or self.env.company.payment_reminder_policy_id
        if policy:
            return policy._get_responsible_user()
        return self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user

    def _get_reply_policy(self):
        self.ensure_one()
        if self.message_id.policy_id:
            return self.message_id.policy_id
        if self.move_ids:
            return self.move_ids[:1]._get_payment_reminder_policy()
        return self.company_id.payment_reminder_policy_id

    def _promise_within_limits(self, policy):
        """The limits of a promise made on the reminder page: a date within
        the policy's days, at most what is due, no other open promise."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        max_days = policy.portal_promise_max_days if policy else 0
        if not self.promise_date or max_days <= 0:
            return False
        if not today <= self.promise_date <= fields.Date.add(today, days=max_days):
            return False
        if self.env["account.payment.reminder.promise"].search_count(
            [("partner_id", "=", self.partner_id.id), ("state", "=", "open")], limit=1
        ):
            return False
        due = sum(self.move_ids._get_payment_reminder_open_amount().values())
        return bool(self.move_ids) and (not self.amount or self.currency_id.compare_amounts(self.amount, due) <= 0)

    def _get_review_summary(self):
        self.ensure_one()
        label = channel_label(self.env, self.reply_channel)
        customer = self.partner_id.name
        if self.kind == "promise":
            when = self._format_date(self.promise_date) if self.promise_date else _("a date to set")
            return _(
                "%(customer)s promises on %(channel)s to pay by %(date)s: confirm",
                customer=customer,
                channel=label,
                date=when,
            )
        if self.kind == "paid":
            return _(
                "%(customer)s says on %(channel)s the invoices are paid: confirm", customer=customer, channel=label
            )
        if self.kind == "dispute":
            return _("%(customer)s disputes the invoices on %(channel)s: confirm", customer=customer, channel=label)
        if self.kind == "plan":
            return _("%(customer)s asks on %(channel)s for a payment plan: confirm", customer=customer, channel=label)
        return _("%(channel)s reply: %(text)s", channel=label, text=(self.note or "")[:80])

    def _log_reply(self, sender=None):
        """What the customer answered and how it was read, in the chatter of
        the invoices and the customer."""
        self.ensure_one()
        body = Markup(
            self.env["ir.qweb"]._render(
                "account_payment_reminder.response_reply_chatter_note",
                {"response": self, "sender": sender, "channel": channel_label(self.env, self.reply_channel)},
                minimal_qcontext=True,
            )
        )
        if self.move_ids:
            self.move_ids._message_log_batch(dict.fromkeys(self.move_ids.ids, body))
        self.partner_id._message_log(body=body)

    # === TELLING THE CUSTOMER === #

    def _tell_customer_promise(self):
        """A short acknowledgement of the promise, on the channel the
        customer replied on (e-mail when it cannot reach them), through the
        send pipeline: queued now, sent by the message queue's cron, which is
        woken up."""
        self.ensure_one()
        promise = self.promise_id
        channel = self.reply_channel or "email"
        if channel == "whatsapp" and not self.partner_id._payment_reminder_whatsapp_window_open():
            channel = "email"  # free text on WhatsApp only within 24 hours of the customer's message
        # sudo: messages are written by the pipeline only, as when an accountant sends from the wizard
        queued = (
            self.env["account.payment.reminder.message"]
            .sudo()
            ._queue_promise_ack(promise.sudo(), channel, self._get_reply_policy().sudo())
        )
        if queued:
            # sudo: waking the scheduler up is no right of the accountant's
            self.env.ref("account_payment_reminder.ir_cron_dispatch_messages").sudo()._trigger()
        else:
            self.partner_id._message_log(
                body=_(
                    "The customer could not be told of the promise on %(channel)s or by e-mail.",
                    channel=channel_label(self.env, channel),
                )
            )
        return queued

    # === E-MAIL REPLIES (Odoo's mail gateway) === #

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An e-mail answering a reminder (see mail_thread.message_route):
        the response is created from what it says; Odoo then posts the
        e-mail in its chatter."""
        reminder_id = (custom_values or {}).get("payment_reminder_message_id")
        reminder = self.env["account.payment.reminder.message"].browse(reminder_id).exists()
        if not reminder:
            return super().message_new(msg_dict, custom_values)
        words = strip_quoted(html2plaintext(_without_quotes(msg_dict.get("body") or "")))
        subject = msg_dict.get("subject") or ""
        if not words.strip() and subject:
            words = subject
        return self._record_reply(reminder.partner_id, "email", words, reminder, sender=msg_dict.get("email_from"))


def _without_quotes(body):
    """The body of an e-mail without what it quotes (the reminder answered):
    Odoo marks quoted parts with ``data-o-mail-quote``; mail clients put them
    in a ``blockquote``."""
    from lxml import html as lxml_html  # noqa: PLC0415 - only the mail gateway needs it

    if not body.strip():
        return body
    try:
        root = lxml_html.fromstring(body)
    except Exception:  # noqa: BLE001 - an unreadable body is read as it is
        return body
    for node in root.xpath("//blockquote | //*[@data-o-mail-quote] | //*[contains(@class, 'gmail_quote')]"):
        node.drop_tree()
    return lxml_html.tostring(root, encoding="unicode")


class AccountPaymentReminderPromise(models.Model):
    _inherit = "account.payment.reminder.promise"

    source = fields.Selection(selection_add=[("reply", "Customer, in a reply")], ondelete={"reply": "set default"})


class AccountPaymentReminderPolicy(models.Model):
    _inherit = "account.payment.reminder.policy"

    reply_promise_auto = fields.Boolean(
        "Apply Promises Read in Replies",
        help="A promise to pay read in a customer's SMS, WhatsApp or e-mail reply is recorded at once, and the "
        "customer told, when it keeps within the limits of the reminder page (date within its days, at most what "
        "is due, no other open promise). Otherwise, and for every other reply, the accountant confirms.",
    )


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _payment_reminder_pause_after_reply(self, channel, words):
        """A day of quiet after a customer answered, while the accountant reads it."""
        self.ensure_one()
        pause_until = fields.Date.add(fields.Date.context_today(self), days=1)
        if not self.payment_reminder_hold_until or self.payment_reminder_hold_until < pause_until:
            self.write(
                {
                    "payment_reminder_hold_until": pause_until,
                    "payment_reminder_hold_reason": _(
                        "Replied on %(channel)s: %(text)s", channel=channel_label(self.env, channel), text=words[:200]
                    ),
                }
            )


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    kind = fields.Selection(
        selection_add=[("promise_ack", "Promise acknowledged")], ondelete={"promise_ack": "cascade"}
    )
    promise_id = fields.Many2one(
        "account.payment.reminder.promise", readonly=True, index="btree_not_null", ondelete="set null"
    )

    @api.model
    def _queue_promise_ack(self, promise, channel, policy):
        """Queue the acknowledgement of ``promise`` on ``channel`` (e-mail when
        it cannot reach the customer), through the send pipeline, once per
        promise. Returns the queued message, if any."""
        group = ReminderGroup(
            policy=policy,
            level=self.env["account.payment.reminder.level"],
            partner=promise.partner_id,
            moves=promise._get_moves(),
            amount=promise.amount,
        )
        return self._queue_first_reachable(
            group,
            list(dict.fromkeys([channel, "email"])),
            require_address=True,
            kind="promise_ack",
            key=f"promise_ack:{promise.id}",
            values={"promise_id": promise.id},
        )
