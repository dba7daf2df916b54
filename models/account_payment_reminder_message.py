import json
import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, formatLang
from odoo.tools.translate import LazyTranslate

from ..tools.schedule import to_local
from ..tools.terms import render_terms, to_terms
from .account_payment_reminder_level import CHANNELS
from .sms_template import describe_encoding

_lt = LazyTranslate(__name__)

_logger = logging.getLogger(__name__)

STATES = [
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("to_print", "To Print"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
STATE_RANK = {"queued": 0, "sending": 1, "to_print": 2, "sent": 3, "failed": 4, "delivered": 5, "read": 6}
"""Receipts only move a message forward: a 'delivered' that arrives after a
'failed' (multi-device WhatsApp) wins, a 'failed' after 'delivered' does not."""

RATE_FIELDS = ("delivered_rate", "read_rate", "failed_rate")
UNREPORTED = {"delivered": ("email", "letter"), "read": ("email", "sms", "letter")}
"""Receipts a channel never sends: e-mail says neither delivered nor read (a
bounce comes back as a failure), SMS never says read, a letter neither."""


def message_rates(state, channel):
    """The delivered, read and failed rates of a message in ``state`` (0 or
    100, averaged by the reports), written with its state. A message queued,
    sending, to print or cancelled has no rates (None: NULL in the table), so
    that it does not pull the averages down, and neither has a receipt that
    its channel never sends (see UNREPORTED): 'not reported', never 0 %."""
    failed = state == "failed"
    if state in ("delivered", "read"):
        delivered = 100
    else:
        delivered = 0 if failed or (state == "sent" and channel not in UNREPORTED["delivered"]) else None
    if state == "read":
        read = 100
    else:
        read = 0 if failed or (state in ("sent", "delivered") and channel not in UNREPORTED["read"]) else None
    return {
        "delivered_rate": delivered,
        "read_rate": read,
        "failed_rate": 100 if failed else 0 if state in ("sent", "delivered", "read") else None,
    }


SENDING_TIMEOUT_MINUTES = 15
RERENDER_FAILURES = {"no_recipient", "no_template", "template_error", "param_empty", "param_too_long", "no_pdf"}
"""Failures that happened before the message had its text (or its letter its PDF): a retry renders it."""


class AccountPaymentReminderMessage(models.Model):
    """One outbound reminder on one channel: the channel history.

    Rows are written by code only (the scheduler, the manual wizard, the
    webhooks); users read them. A row is committed in state ``queued`` before
    its provider is called, under a unique idempotency key, so that a crash or
    a second run never sends twice.
    """

    _name = "account.payment.reminder.message"
    _description = "Payment Reminder Message"
    _order = "queued_at desc, id desc"
    # no stored name: a name search (many2one fields, the search bar) looks in these
    _rec_names_search = ["partner_id", "recipient", "provider_message_id"]

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, readonly=True, help="The commercial partner."
    )
    recipient_partner_id = fields.Many2one("res.partner", "Recipient Contact", readonly=True)
    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_message_move_rel",
        "message_id",
        "move_id",
        string="Invoices",
        readonly=True,
    )
    move_count = fields.Integer("# Invoices", compute="_compute_move_count")
    invoice_names = fields.Char("Invoice Numbers", compute="_compute_invoice_names")
    invoice_summary = fields.Char(
        "Invoices In Short",
        compute="_compute_invoice_summary",
        help="What a short message (SMS, WhatsApp, subject) names: 'invoice INV/2026/00001', or '3 invoices'.",
    )
    invoice_label = fields.Char(
        "Invoices (Text)",
        compute="_compute_invoice_names",
        help='For templates: "invoice INV/001" or "invoices INV/001, INV/002", oldest due first, in the '
        "message's language.",
    )
    amount_due_display = fields.Char("Total Due", compute="_compute_amount_due_display")
    policy_id = fields.Many2one("account.payment.reminder.policy", readonly=True, index=True)
    level_id = fields.Many2one("account.payment.reminder.level", readonly=True, index=True)
    kind = fields.Selection(
        [
            ("reminder", "Reminder"),
            ("plan_summary", "Payment plan"),
            ("plan_before", "Instalment coming"),
            ("plan_after", "Instalment late"),
            ("plan_broken", "Payment plan broken"),
        ],
        default="reminder",
        required=True,
        readonly=True,
    )
    plan_id = fields.Many2one("account.payment.reminder.plan", readonly=True, index="btree_not_null")
    plan_line_id = fields.Many2one("account.payment.reminder.plan.line", "Instalment", readonly=True)
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    gateway_id = fields.Many2one("account.payment.reminder.gateway", readonly=True)
    provider = fields.Selection(related="gateway_id.provider", store=True)
    recipient = fields.Char(readonly=True, help="E-mail address, E.164 phone number or postal address.")
    email_cc = fields.Char(
        "Cc", readonly=True, help="The customer's accounts-payable contact, in copy when the policy says so."
    )
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "account_payment_reminder_message_attachment_rel",
        "message_id",
        "attachment_id",
        string="Documents",
        readonly=True,
        help="A letter's PDF; an e-mail's attached invoices and statement.",
    )
    lang = fields.Char("Language", readonly=True)
    email_from = fields.Char(readonly=True)
    subject = fields.Char(readonly=True)
    # read together (sending reads both), not with the other fields (lists need neither)
    body_html = fields.Html("Rendered E-mail", readonly=True, sanitize=False, prefetch="rendered")
    body = fields.Text("Rendered Text", readonly=True, prefetch="rendered")
    state = fields.Selection(STATES, default="queued", required=True, readonly=True, index=True)
    failure_code = fields.Char(readonly=True)
    failure_reason = fields.Text(
        "Failure Reason As Logged", readonly=True, help="In the language of who sent the message, for the logs."
    )
    failure_reason_terms = fields.Json(
        readonly=True, copy=False, help="The failure reason, to be read in any language."
    )
    failure_reason_display = fields.Text(
        "Failure Reason", compute="_compute_failure_reason_display", help="In your language."
    )
    provider_message_id = fields.Char(readonly=True, index="btree_not_null", copy=False)
    idempotency_key = fields.Char(required=True, readonly=True, copy=False)
    trigger = fields.Selection(
        [("cron", "Scheduler"), ("manual", "Manual")], default="cron", required=True, readonly=True
    )
    user_id = fields.Many2one("res.users", "Sent By", readonly=True)
    override_reason = fields.Char(
        "Sent Despite",
        readonly=True,
        help="Why the accountant sent it although the invoices were held (hold, promise, payment plan).",
    )
    parent_id = fields.Many2one(
        "account.payment.reminder.message",
        "Replaces",
        readonly=True,
        help="The failed message this one falls back from.",
    )
    attempt_count = fields.Integer(readonly=True, default=0)
    fallback_pending = fields.Boolean(
        readonly=True,
        index="btree_not_null",
        copy=False,
        help="A delivery receipt reported a failure: the scheduler queues the next channel.",
    )
    queued_at = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now, copy=False)
    claimed_at = fields.Datetime(readonly=True, help="When the last send attempt started.")
    next_attempt_at = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now)
    tz = fields.Char("Time Zone", readonly=True)
    sent_at = fields.Datetime(readonly=True)
    delivered_at = fields.Datetime(readonly=True)
    read_at = fields.Datetime(readonly=True)
    failed_at = fields.Datetime(readonly=True)
    amount_due = fields.Monetary(
        currency_field="company_currency_id",
        readonly=True,
        aggregator=None,  # what each message asked for: messages repeat the same debt, a sum means nothing
        help="What the message asked for when it went, net of the customer's credits, in company currency.",
    )
    amount_credit = fields.Monetary(
        "Credits Netted",
        currency_field="company_currency_id",
        readonly=True,
        help="How much of what was due the customer's credits (credit notes, unreconciled payments) "
        "covered, in company currency.",
    )
    statement_data = fields.Text(
        readonly=True,
        prefetch=False,
        help="What the message listed (JSON): each invoice with what was due on it, and the totals per "
        "currency, net of credits.",
    )
    reached_levels = fields.Text(
        readonly=True,
        prefetch=False,
        help="The level each invoice reaches when this message goes (JSON: invoice id -> [level id, the due date "
        "the level refers to]): only a message that went moves an invoice up the ladder.",
    )
    timing_arm = fields.Selection(
        [("learnt", "Learnt hour and channel"), ("default", "Policy's defaults")],
        "A/B Test Half",
        readonly=True,
        index="btree_not_null",
        help="When its policy learns each customer's hour and channel: the half of the A/B test the customer is in "
        "(without the test, every customer is on the learnt half).",
    )
    timing_learnt = fields.Boolean(
        "Sent At The Learnt Hour", readonly=True, help="It waited for the hour the customer reads its messages."
    )
    timing_reason_terms = fields.Json(readonly=True, copy=False, help="Why this hour and channel, in any language.")
    timing_reason = fields.Char("Why This Hour And Channel", compute="_compute_timing_reason")
    segments = fields.Integer(readonly=True)
    cost = fields.Float(readonly=True, digits=(16, 4))
    provider_payload = fields.Text(readonly=True, groups="base.group_no_one", prefetch=False)
    mail_id = fields.Many2one("mail.mail", readonly=True)
    template_name = fields.Char("Template", readonly=True, help="The template the message was rendered from.")
    # reporting: averages of 0/100 values are rates in the pivot view; NULL means "not known yet"
    # (see message_rates, written with the state by _write_multi)
    delivered_rate = fields.Float(
        "Delivered (%)", readonly=True, aggregator="avg", help="Of the messages whose channel reports delivery."
    )
    read_rate = fields.Float(
        "Read (%)", readonly=True, aggregator="avg", help="Of the messages whose channel reports reading (WhatsApp)."
    )
    failed_rate = fields.Float("Failed (%)", readonly=True, aggregator="avg")
    reminder_count = fields.Integer(
        "Messages", default=1, readonly=True, help="How many messages a rate of the reports rests on."
    )
    is_first_reminder = fields.Boolean("First Reminder", readonly=True)
    paid_date = fields.Date("Invoices Paid On", readonly=True)
    days_to_pay = fields.Float("Days to Pay", readonly=True, aggregator="avg", digits=(16, 1))
    paid_3d_rate = fields.Float("Paid in 3 Days (%)", readonly=True, aggregator="avg")
    paid_7d_rate = fields.Float("Paid in 7 Days (%)", readonly=True, aggregator="avg")
    paid_14d_rate = fields.Float("Paid in 14 Days (%)", readonly=True, aggregator="avg")
    whatsapp_template_id = fields.Many2one(
        "account.payment.reminder.whatsapp.template", "WhatsApp Template", readonly=True
    )
    payment_link = fields.Char(readonly=True, help="The tracked short link sent by SMS or WhatsApp.")
    whatsapp_params = fields.Text(
        "WhatsApp Parameters", readonly=True, prefetch=False, help="The template's parameters as sent (JSON list)."
    )
    whatsapp_button = fields.Char("WhatsApp Button", readonly=True, help="The variable end of the URL button.")
    due_date_display = fields.Char("Due Date", compute="_compute_due_date_display")
    previous_reminder_date = fields.Date(
        "Previous Reminder On",
        compute="_compute_previous_reminder_date",
        help="For templates: the day of the last reminder that went out about these invoices before this one "
        "(a failed one does not count); empty when the customer never heard from us about them, so that a "
        "text never claims an earlier reminder that was not sent.",
    )
    encoding_info = fields.Char("Encoding", compute="_compute_encoding_info")

    _sql_constraints = [
        ("idempotency_key_unique", "UNIQUE(idempotency_key)", "This reminder was already queued."),
    ]

    @api.depends("level_id", "channel", "partner_id", "kind")
    def _compute_display_name(self):
        channels = dict(CHANNELS)
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for message in self:
            what = message.level_id.name if message.kind == "reminder" else kinds[message.kind]
            message.display_name = " - ".join(
                filter(None, [message.partner_id.name, what, channels.get(message.channel)])
            )

    @api.depends("move_ids")
    def _compute_move_count(self):
        for message in self:
            message.move_count = len(message.move_ids)

    @api.depends("move_ids.name", "move_ids.invoice_date_due")
    @api.depends_context("lang")
    def _compute_invoice_names(self):
        for message in self:
            names = message._get_sorted_moves().mapped("name")
            message.invoice_names = ", ".join(names)
            if len(names) == 1:
                message.invoice_label = _("invoice %(number)s", number=names[0])
            else:
                message.invoice_label = _("invoices %(numbers)s", numbers=", ".join(names))

    def _get_sorted_moves(self):
        """The invoices in the order a customer reads them: oldest due first."""
        self.ensure_one()
        return self.move_ids.sorted(lambda move: (move.invoice_date_due or move.date, move.name or "", move.id))

    @api.depends("move_ids.name")
    @api.depends_context("lang")
    def _compute_invoice_summary(self):
        for message in self:
            count = len(message.move_ids)
            if count == 1:
                message.invoice_summary = _("invoice %(number)s", number=message.move_ids.name)
            else:
                message.invoice_summary = _("%(count)s invoices", count=count)

    @api.depends("move_ids.payment_reminder_amount_open", "statement_data")
    @api.depends_context("lang")
    def _compute_amount_due_display(self):
        for message in self:
            message.amount_due_display = " + ".join(
                formatLang(self.env, total["net"], currency_obj=total["currency"])
                for total in message._get_statement()["totals"]
            )

    def _get_statement(self):
        """What the message lists, for its templates and previews: the
        invoices, oldest due first, each with its due date, days overdue and
        what was asked for it (in its currency); and per currency the total
        due, the credits netted and the net amount to pay. From what the
        scheduler recorded when it queued the message; for a message without
        (a preview, a plan's message), from the invoices as they are."""
        self.ensure_one()
        data = json.loads(self.statement_data or "null") or {
            "invoices": [
                [move._origin.id or move.id, move.currency_id.id, (move._origin or move).payment_reminder_amount_open]
                for move in self.move_ids
            ],
            "totals": [],
        }
        moves = {move._origin.id or move.id: move for move in self.move_ids}
        Currency = self.env["res.currency"]
        today = to_local(fields.Datetime.now(), self.tz or "UTC").date()
        invoices = []
        for move_id, currency_id, amount, *recorded in data["invoices"]:
            move = moves.get(move_id) or self.env["account.move"].browse(move_id)
            if recorded and recorded[0]:  # the due date the scheduler read with the amounts
                due = fields.Date.to_date(recorded[0])
            else:
                due = move._get_payment_reminder_due_date() if move.line_ids else move.invoice_date_due
            invoices.append(
                {
                    "move": move,
                    "due": due,
                    "days": max(0, (today - due).days) if due else 0,
                    "amount": amount,
                    "currency": Currency.browse(currency_id),
                }
            )
        invoices.sort(key=lambda line: (line["due"] or today, line["move"].name or ""))
        totals = [
            {"currency": Currency.browse(currency_id), "due": due, "credits": credits, "net": net}
            for currency_id, due, credits, net in data["totals"]
        ]
        if not data["totals"]:
            by_currency = defaultdict(float)
            for line in invoices:
                by_currency[line["currency"]] += line["amount"]
            totals = [
                {"currency": currency, "due": amount, "credits": 0.0, "net": amount}
                for currency, amount in by_currency.items()
            ]
        return {"invoices": invoices, "totals": totals, "has_credits": any(t["credits"] for t in totals)}

    @api.depends("move_ids.invoice_date_due", "lang")
    def _compute_due_date_display(self):
        for message in self:
            due = min(message.move_ids.mapped("invoice_date_due"), default=False)
            message.due_date_display = due and format_date(message.env, due, lang_code=message.lang or None)

    def _compute_previous_reminder_date(self):
        saved = self.filtered("id")
        previous = {}
        if saved:
            self.flush_model(["state", "sent_at", "kind"])
            self.env.cr.execute(
                """
                SELECT cur.message_id, MAX(prev.sent_at)
                  FROM account_payment_reminder_message_move_rel cur
                  JOIN account_payment_reminder_message_move_rel rel ON rel.move_id = cur.move_id
                  JOIN account_payment_reminder_message prev ON prev.id = rel.message_id
                 WHERE cur.message_id = ANY(%s) AND prev.id < cur.message_id AND prev.kind = 'reminder'
                   AND prev.state IN ('sent', 'delivered', 'read')
                 GROUP BY cur.message_id
                """,
                [saved.ids],
            )
            previous = dict(self.env.cr.fetchall())
        for message in self:
            if message.id:
                sent_at = previous.get(message.id)
            else:  # a preview: what went about its invoices so far
                sent_at = max(
                    self.search(
                        [
                            ("move_ids", "in", message.move_ids._origin.ids),
                            ("kind", "=", "reminder"),
                            ("state", "in", ("sent", "delivered", "read")),
                        ],
                        order="sent_at desc",
                        limit=1,
                    ).mapped("sent_at"),
                    default=None,
                )
            message.previous_reminder_date = sent_at and sent_at.date()

    @api.depends("failure_reason", "failure_reason_terms")
    @api.depends_context("lang")
    def _compute_failure_reason_display(self):
        for message in self:
            terms = message.failure_reason_terms
            message.failure_reason_display = render_terms(terms, message.env.lang) if terms else message.failure_reason

    @api.depends("timing_reason_terms")
    @api.depends_context("lang")
    def _compute_timing_reason(self):
        for message in self:
            terms = message.timing_reason_terms or []
            message.timing_reason = ". ".join(render_terms(part, message.env.lang) for part in terms) or False

    def _prepare_failure_reason_vals(self, reason):
        """The values that record why a message failed: ``reason`` (a lazy
        translation, terms, or a text) as terms that each reader reads in its
        language, and as text in the sender's language for the logs."""
        terms = to_terms(reason)
        return {
            "failure_reason": render_terms(terms, self.env.lang) or False,
            "failure_reason_terms": terms if isinstance(terms, dict) else False,
        }

    @api.depends("body", "channel")
    def _compute_encoding_info(self):
        for message in self:
            message.encoding_info = message.channel == "sms" and describe_encoding(message.env, message.body)

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        messages.filtered(lambda m: m.state not in ("queued", "sending"))._write_rates()
        return messages

    def _write_multi(self, vals_list):
        """Where the ORM stores what ``write`` changed: the rates go with the
        state in the same UPDATE, as column values, where None is NULL (a
        write of the fields would store an unknown rate as 0.0)."""
        if any("state" in vals for vals in vals_list):
            channels = self.mapped("channel")  # read before the UPDATE: a message's channel never changes
            vals_list = [
                {**vals, **message_rates(vals["state"], channel)} if "state" in vals else vals
                for vals, channel in zip(vals_list, channels, strict=True)
            ]
            self.invalidate_recordset(RATE_FIELDS, flush=False)  # read again once written
        return super()._write_multi(vals_list)

    def write(self, vals):
        if "failure_reason" in vals and "failure_reason_terms" not in vals:
            vals = {**vals, "failure_reason_terms": False}  # a reason written as text replaces the terms
        before = {message.id: message.state for message in self} if "state" in vals else {}
        result = super().write(vals)
        if before:
            self.flush_recordset(["state"])  # the rates with it, in one UPDATE (_write_multi)
            # a reminder that failed (or was cancelled) reached nothing, one sent again may: the invoices' level
            # follows what really went
            dead = ("failed", "cancelled")
            changed = self.filtered(lambda m: m.kind == "reminder" and (m.state in dead) != (before[m.id] in dead))
            changed.move_ids._payment_reminder_sync_levels()
        return result

    def _write_rates(self):
        """The rates that go with each message's state (see message_rates),
        written at once."""
        if self:
            self.flush_recordset(["state"])
            self._write_multi([message_rates(message.state, message.channel) for message in self])
            self.invalidate_recordset(RATE_FIELDS, flush=False)

    # === ACTIONS === #

    def action_cancel(self):
        """Cancel messages that have not left yet."""
        queued = self.filtered(lambda m: m.state == "queued")
        if queued != self:
            raise UserError(_("Only queued messages can be cancelled."))
        # sudo: history rows are written by code only; the caller could read them (access checked above).
        queued.sudo().write(
            {
                "state": "cancelled",
                **self._prepare_failure_reason_vals(_lt("Cancelled by %(user)s", user=self.env.user.name)),
            }
        )
        return True

    def action_retry(self):
        """Send a failed message again (after fixing the address, say)."""
        if not self.env.user.has_group("account.group_account_manager"):
            raise UserError(_("Only accounting managers can send a failed reminder again."))
        # sudo: history rows are written by code only; the manager's right is checked above.
        failed = self.filtered(lambda m: m.state == "failed").sudo()
        unrendered = failed.filtered(lambda m: m.failure_code in RERENDER_FAILURES)
        failed.write({"state": "queued", "attempt_count": 0, "next_attempt_at": fields.Datetime.now()})
        failed._refresh_recipient()
        # a repaired template or a new address: render again; an accountant's edited text is kept otherwise
        unrendered._render_contents()
        failed.filtered(lambda m: m.state == "queued")._dispatch()
        return True

    def action_open_moves(self):
        self.ensure_one()
        return self.move_ids._payment_reminder_action_open()

    # === STATE MACHINE === #

    def _apply_status(self, state, when=None, code=None, reason=None, values=None):
        """Move messages forward to ``state`` (a receipt, a send result). Older
        or repeated receipts change nothing. Returns the messages that moved.

        :param values: more values to write on each message (what the
            provider answered), with the move in one write, or alone
        """
        when = when or fields.Datetime.now()
        moved = self.browse()
        for message in self:
            if message.state == "cancelled" or STATE_RANK[state] <= STATE_RANK.get(message.state, 0):
                if values:
                    message.write(values)
                continue
            vals = {**(values or {}), "state": state}
            stamp = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}.get(
                state
            )
            if stamp and not message[stamp]:
                vals[stamp] = when
            if state in ("delivered", "read") and not message.sent_at:
                vals["sent_at"] = when
            if state == "read" and not message.delivered_at:
                vals["delivered_at"] = when
            if state == "failed":
                vals.update(failure_code=code, **message._prepare_failure_reason_vals(reason))
            message.write(vals)
            moved |= message
        return moved

    def _log_in_chatter(self):
        """Post the messages, as sent or failed, in the chatter of each invoice
        they cover: one note per invoice, in one batch; a letter's note with
        its PDF."""
        bodies = defaultdict(list)
        letters = self.filtered(lambda m: m.channel == "letter" and m.attachment_ids and m.state != "failed")
        for message in letters:
            body = self.env["ir.qweb"]._render(
                "account_payment_reminder.message_chatter_note", {"message": message}, minimal_qcontext=True
            )
            for move in message.move_ids:
                move._message_log(body=Markup(body), attachment_ids=message.attachment_ids.ids)
        for message in self - letters:
            body = self.env["ir.qweb"]._render(
                "account_payment_reminder.message_chatter_note", {"message": message}, minimal_qcontext=True
            )
            for move in message.move_ids:
                bodies[move.id].append(Markup(body))
        if bodies:
            self.env["account.move"].browse(bodies)._message_log_batch(
                bodies={move_id: Markup().join(parts) for move_id, parts in bodies.items()}
            )

    # === SCHEDULED ENTRIES (data/ir_cron_data.xml) === #

    @api.model
    def _cron_dispatch(self):
        """The messages' own scheduler, as Odoo's mail queue: fail what a crash
        interrupted, queue the fallbacks that delivery receipts asked for,
        send what is due (retries, fallbacks, messages that waited for their
        send window) and wake up again for the next retry. Returns the
        messages handed to a provider."""
        # sudo: the scheduler works across companies and writes the history, which users only read.
        self = self.sudo().with_context(tracking_disable=True, mail_notrack=True)
        commit = self.env["account.move"]._can_commit()
        self._cron_fail_interrupted()
        self._cron_process_fallbacks()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit  # the failures and fallbacks before any provider call
        now = fields.Datetime.now()
        due = self.search([("state", "=", "queued"), ("next_attempt_at", "<=", now)], order="id")
        # a message that waited for its customer's learnt hour: paid or held since, it does not go
        due -= due.filtered("timing_learnt")._cancel_no_longer_owed()
        sent = due._dispatch_or_enqueue(commit=commit)
        self._wake_up_for_retries()
        return sent

    @api.model
    def _wake_up_for_retries(self):
        """Call the dispatch cron again when the next queued message is due."""
        cron = self.env.ref("account_payment_reminder.ir_cron_dispatch_messages", raise_if_not_found=False)
        retry_at = self.search([("state", "=", "queued")], order="next_attempt_at", limit=1).next_attempt_at
        if cron and retry_at and retry_at > fields.Datetime.now():
            cron._trigger(at=retry_at)

    @api.model
    def _cron_effectiveness(self):
        """The effectiveness figures of recent messages (reports): a
        concurrent receipt on the same rows leaves them to the next call."""
        # sudo: the scheduler writes the history, which users only read.
        self.env["account.payment.reminder.run"]._housekeep(self.sudo()._cron_update_effectiveness)

    @api.model
    def _cron_fail_interrupted(self):
        """Messages stuck in 'sending' were interrupted mid-call: they may have
        reached the customer, so they are failed with a reason, never resent."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), minutes=SENDING_TIMEOUT_MINUTES)
        stuck = self.search([("state", "=", "sending"), ("claimed_at", "<", limit)])
        for message in stuck:
            message.write(
                {
                    "state": "failed",
                    "failed_at": fields.Datetime.now(),
                    "failure_code": "interrupted",
                    **self._prepare_failure_reason_vals(
                        _lt("Interrupted while sending: it may have reached the customer, so it is not sent again.")
                    ),
                }
            )
        stuck._log_in_chatter()
        return stuck
