"""The key behind every reminder's link: one customer, one company, a page.

A reminder links to ``/reminder/<token>``, the customer's self-service page
(see controllers/portal.py). The token is 256 random bits, scoped to one
commercial partner and one company, and expires after the company's link
validity. A link is refused once its customer is archived or merged into
another one (a merge moves ``partner_id``, not ``partner_key``).
"""

import math
import re
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools.locks import lock_and_touch
from ..tools.statement import StatementLine, summarize
from .account_move import OPEN_INVOICE_DOMAIN

POST_LIMIT = 20
POST_WINDOW = timedelta(minutes=10)
"""At most POST_LIMIT form posts per link and POST_WINDOW: a customer answers
a reminder in a few clicks; a script does not get to hammer the page, and a
flood locks the real customer out for minutes at most (turning reminders off
is never limited, see controllers/portal.py)."""
SEEN_INTERVAL = timedelta(hours=1)
"""``last_seen_at`` is written at most once per SEEN_INTERVAL: a page view is
a read, not a write."""
NEW_LINK_INTERVAL = timedelta(hours=6)
"""At most one "send me a new link" e-mail per expired link and NEW_LINK_INTERVAL."""
PAYMENT_DRAFT_HOLD = timedelta(minutes=30)
"""A payment started on the page (a draft transaction: the customer is on the
bank's page) blocks another payment of the same invoices for this long; after
it, the payment is taken as abandoned."""
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")
"""What ``secrets.token_urlsafe`` makes; anything else is no link (and never reaches the database)."""


class AccountPaymentReminderAccess(models.Model):
    _name = "account.payment.reminder.access"
    _description = "Payment Reminder Page Link"
    _order = "expires_at desc, id desc"

    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, readonly=True, index=True, ondelete="cascade"
    )
    partner_key = fields.Integer(
        readonly=True, help="The customer's id when the link was made: merging the customer into another voids it."
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    token = fields.Char(required=True, readonly=True, copy=False)
    expires_at = fields.Datetime("Expires", required=True, readonly=True)
    url = fields.Char("Link", compute="_compute_url")
    last_seen_at = fields.Datetime("Last Opened", readonly=True)
    post_count = fields.Integer(readonly=True, help="Form posts in the current rate-limit window.")
    post_window_start = fields.Datetime(readonly=True)
    new_link_sent_at = fields.Datetime(
        "New Link Sent", readonly=True, help="When the customer last asked for a new link through this expired one."
    )

    _sql_constraints = [("token_unique", "UNIQUE(token)", "A link token is unique.")]

    @api.depends("token")
    def _compute_url(self):
        for access in self:
            access.url = f"{access.company_id.get_base_url()}/reminder/{access.token}"

    # === LINKS === #

    @api.model
    def _get_valid_domain(self, partners, companies, margin=None):
        """Links of these customers and companies that are still valid (for
        ``margin`` more at least)."""
        return [
            ("partner_id", "in", partners.ids),
            ("company_id", "in", companies.ids),
            ("expires_at", ">", fields.Datetime.now() + (margin or timedelta())),
        ]

    @api.model
    def _get_urls(self, moves):
        """{(commercial partner id, company id): the page's URL} for the customers of
        ``moves`` that have a valid link (the most recent one)."""
        accesses = self.search(self._get_valid_domain(moves.commercial_partner_id, moves.company_id))
        urls = {}
        for access in accesses:  # newest first: keep the first seen
            urls.setdefault((access.partner_id.id, access.company_id.id), access.url)
        return urls

    @api.model
    def _ensure(self, pairs):
        """A valid link for each ``(commercial partner, company)``: the current
        one while it has at least half its validity left, else a new one. Older
        links stay valid until they expire (they are in messages already sent).
        Set-wise: one search and one create for a batch of messages."""
        pairs = {(partner.commercial_partner_id, company) for partner, company in pairs if partner and company}
        if not pairs:
            return self.browse()
        partners = self.env["res.partner"].union(*(partner for partner, _company in pairs))
        companies = self.env["res.company"].union(*(company for _partner, company in pairs))
        existing = set()
        for company in companies:
            margin = timedelta(days=company._get_payment_reminder_link_days() / 2)
            domain = self._get_valid_domain(partners, company, margin=margin)
            existing |= {(access.partner_id, access.company_id) for access in self.search(domain)}
        missing = sorted(pairs - existing, key=lambda pair: (pair[0].id, pair[1].id))
        return self.create([self._prepare_vals(partner, company) for partner, company in missing])

    @api.model
    def _prepare_vals(self, partner, company):
        return {
            "partner_id": partner.id,
            "partner_key": partner.id,
            "company_id": company.id,
            "token": secrets.token_urlsafe(32),  # 256 bits
            "expires_at": fields.Datetime.now() + timedelta(days=company._get_payment_reminder_link_days()),
        }

    @api.model
    def _find(self, token):
        """``(link, state)`` for a token from a URL: state is 'valid' or
        'expired'; ``(empty, None)`` when no link has this token, or its
        customer was archived or merged."""
        if not token or not TOKEN_RE.fullmatch(token):
            return self.browse(), None
        access = self.search([("token", "=", token)], limit=1)
        if not access or not access._is_customer_usable():
            return self.browse(), None
        return access, ("valid" if access.expires_at > fields.Datetime.now() else "expired")

    def _is_customer_usable(self):
        self.ensure_one()
        partner = self.partner_id
        return bool(partner.active and partner.id == self.partner_key and partner.commercial_partner_id == partner)

    def _check_post_rate(self):
        """Count one form post; False when the link is over its limit."""
        self.ensure_one()
        now = fields.Datetime.now()
        if not self.post_window_start or now - self.post_window_start > POST_WINDOW:
            self.write({"post_window_start": now, "post_count": 1})
            return True
        if self.post_count >= POST_LIMIT:
            return False
        self.post_count += 1
        return True

    def _get_post_wait_minutes(self):
        """Minutes until the link takes posts again (its window ends)."""
        self.ensure_one()
        left = (self.post_window_start or fields.Datetime.now()) + POST_WINDOW - fields.Datetime.now()
        return max(1, math.ceil(left.total_seconds() / 60))

    def _note_seen(self):
        """Remember the customer opened the page: at most once per SEEN_INTERVAL."""
        self.ensure_one()
        now = fields.Datetime.now()
        if not self.last_seen_at or now - self.last_seen_at >= SEEN_INTERVAL:
            self.last_seen_at = now

    # === WHAT THE PAGE SHOWS === #

    def _get_policy(self):
        """The customer's policy in this company, else the company's."""
        self.ensure_one()
        for policy in (self.partner_id.payment_reminder_policy_id, self.company_id.payment_reminder_policy_id):
            if policy and policy.active and policy.company_id == self.company_id:
                return policy
        return self.env["account.payment.reminder.policy"]

    def _get_open_invoices(self):
        """The customer's open invoices in this company, oldest due first."""
        self.ensure_one()
        moves = self.env["account.move"].search(
            OPEN_INVOICE_DOMAIN
            + [("commercial_partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id)]
        )
        return moves.sorted(lambda m: (m.invoice_date_due or m.date, m.id))

    def _get_credit_lines(self):
        """What the customer has to its credit here: open credit notes,
        unreconciled payments, other receivable credits."""
        self.ensure_one()
        return self.env["account.move.line"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("partner_id.commercial_partner_id", "=", self.partner_id.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual", "<", 0),
            ],
            order="date, id",
        )

    def _get_statement(self):
        """The customer's statement: ``invoices`` (dicts with the move, its due
        date, what is still due on it and the days overdue), ``credits``
        (receivable lines), and ``totals``: [(currency, CurrencyTotal)] netting
        the credits against what is overdue (tools.statement)."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        invoices = self._get_open_invoices()
        open_amounts = invoices._get_payment_reminder_open_amount()
        disputes = self._get_open_disputes(invoices)
        rows, lines = [], []
        for move in invoices:
            amount = open_amounts[move.id]
            if move.currency_id.is_zero(amount):
                continue
            due = move._get_payment_reminder_due_date()
            share = amount / move.amount_residual if move.amount_residual else 1.0
            dispute = disputes.get(move.id)
            if not dispute:  # a disputed invoice stays listed, out of what the page asks to pay now
                lines.append(
                    StatementLine(move.id, move.currency_id.id, amount, move.amount_residual_signed * share, due)
                )
            hold = move.payment_reminder_hold_until
            rows.append(
                {
                    "move": move,
                    "due": due,
                    "amount": amount,
                    "days_overdue": max(0, (today - due).days) if due else 0,
                    "on_hold": bool(hold and hold >= today),
                    "dispute": dispute,
                }
            )
        credits = self._get_credit_lines()
        for line in credits:
            residual = line.amount_residual_currency if line.currency_id else line.amount_residual
            lines.append(
                StatementLine(
                    line.move_id.id,
                    (line.currency_id or line.company_currency_id).id,
                    residual,
                    line.amount_residual,
                    is_invoice=False,
                )
            )
        Currency = self.env["res.currency"]
        totals = summarize(lines, today, is_zero=lambda currency_id, value: Currency.browse(currency_id).is_zero(value))
        return {
            "invoices": rows,
            "credits": credits,
            "totals": sorted(((Currency.browse(cid), total) for cid, total in totals.items()), key=lambda t: t[0].name),
        }

    def _get_open_disputes(self, invoices):
        """{invoice id: the customer's dispute of it waiting for review}."""
        responses = self.env["account.payment.reminder.response"].search(
            [
                ("kind", "=", "dispute"),
                ("state", "=", "to_review"),
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("move_ids", "in", invoices.ids),
            ],
            order="id desc",
        )
        return {move.id: response for response in responses for move in response.move_ids}

    def _get_plans(self):
        """The customer's payment plans here that are on track or waiting for approval."""
        self.ensure_one()
        return self.env["account.payment.reminder.plan"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("state", "in", ("pending", "active")),
            ]
        )

    def _get_open_promise(self):
        self.ensure_one()
        return self.env["account.payment.reminder.promise"].search(
            [("partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id), ("state", "=", "open")],
            limit=1,
        )

    # === PAYMENTS === #

    def _get_payment(self, scope, record_id):
        """What an online payment covers: ``(invoices, amount, currency,
        label)`` for one invoice (``scope`` 'invoice', ``record_id`` an invoice
        id), everything overdue in a currency ('overdue', a currency id, less
        the credits in that currency), or the next instalment of a plan
        ('instalment', a plan instalment id). Raises UserError when there is
        nothing to pay (already paid, not this customer's)."""
        self.ensure_one()
        statement = self._get_statement()
        if scope == "invoice":
            row = next((row for row in statement["invoices"] if row["move"].id == record_id), None)
            if row:
                move = row["move"]
                return move, row["amount"], move.currency_id, move.name
        elif scope == "overdue":
            for currency, total in statement["totals"]:
                if currency.id == record_id and not currency.is_zero(total.net) and total.move_ids:
                    moves = self.env["account.move"].browse(total.move_ids)
                    return moves, currency.round(total.net), currency, _("Invoices due")
        elif scope == "instalment":
            for plan in self._get_plans().filtered(lambda p: p.state == "active"):
                line = plan.next_line_id
                if line.id == record_id:
                    moves = plan.move_ids.filtered("payment_reminder_is_open")
                    amount = plan.currency_id.round(line.amount - line.amount_paid)
                    if moves and not plan.currency_id.is_zero(amount):
                        label = _("Instalment of %(date)s", date=fields.Date.to_string(line.date))
                        return moves, amount, plan.currency_id, label
        raise UserError(_("There is nothing left to pay here: it may have been paid already."))

    def _get_payment_in_progress(self, moves):
        """The latest transaction paying any of ``moves`` that is not settled
        yet: pending or authorised at the provider, done but not booked yet,
        or started on the page less than PAYMENT_DRAFT_HOLD ago."""
        return self.env["payment.transaction"].search(
            [
                ("invoice_ids", "in", moves.ids),
                "|",
                "|",
                ("state", "in", ("pending", "authorized")),
                "&",
                ("state", "=", "done"),
                ("is_post_processed", "=", False),
                "&",
                ("state", "=", "draft"),
                ("create_date", ">", fields.Datetime.now() - PAYMENT_DRAFT_HOLD),
            ],
            order="id desc",
            limit=1,
        )

    def _get_payment_in_progress_message(self, transaction):
        if transaction.state == "draft":
            left = min(transaction.create_date + PAYMENT_DRAFT_HOLD - fields.Datetime.now(), PAYMENT_DRAFT_HOLD)
            return _(
                "A payment of %(amount)s for these invoices was started a moment ago (%(reference)s). "
                "If you did not finish it, you can pay again in %(minutes)s minutes.",
                amount=transaction.currency_id.format(transaction.amount),
                reference=transaction.reference,
                minutes=max(1, math.ceil(left.total_seconds() / 60)),
            )
        return _(
            "A payment of %(amount)s for these invoices is already on its way (%(reference)s): "
            "there is nothing more to pay until it is confirmed.",
            amount=transaction.currency_id.format(transaction.amount),
            reference=transaction.reference,
        )

    def _lock_payment(self, moves):
        """Take ``moves`` for one online payment, or raise UserError with a
        sentence when a payment of any of them is under way.

        The invoices' rows are locked and touched (tools/locks.py): a
        concurrent request paying any of them waits for this one to end, then
        fails to serialise and is retried by Odoo with a fresh snapshot, in
        which it finds this request's transaction."""
        lock_and_touch(self.env.cr, "account_move", moves.ids)
        transaction = self._get_payment_in_progress(moves)
        if transaction:
            raise UserError(self._get_payment_in_progress_message(transaction))

    # === MESSAGES === #

    def _get_last_message(self):
        """The last reminder that reached the customer here: the one that led
        them to the page (the effectiveness figures count it)."""
        self.ensure_one()
        return self.env["account.payment.reminder.message"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("state", "in", ("sent", "delivered", "read")),
            ],
            order="sent_at desc, id desc",
            limit=1,
        )

    def _get_customer_email(self):
        """Where a fresh link goes: the address of the customer's last e-mail
        reminder, else the customer's own; never an address typed on the page."""
        self.ensure_one()
        last = self.env["account.payment.reminder.message"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("channel", "=", "email"),
                ("state", "in", ("sent", "delivered", "read")),
            ],
            order="sent_at desc, id desc",
            limit=1,
        )
        return last.recipient or self.partner_id.email_normalized

    def _may_send_new_link(self):
        """False when this link sent a new one less than NEW_LINK_INTERVAL ago."""
        self.ensure_one()
        return not self.new_link_sent_at or fields.Datetime.now() - self.new_link_sent_at >= NEW_LINK_INTERVAL

    def _send_new_link(self):
        """Send the customer a fresh link by e-mail (the old one expired).
        Returns the new link; raises UserError when there is no address.
        Writing ``new_link_sent_at`` first serialises two requests at once:
        the second one is retried and finds the first one's time."""
        self.ensure_one()
        self.new_link_sent_at = fields.Datetime.now()
        email = self._get_customer_email()
        if not email:
            raise UserError(_("We have no e-mail address for you. Please contact us to get a new link."))
        link = self.create(self._prepare_vals(self.partner_id, self.company_id))
        template = self.env.ref("account_payment_reminder.mail_template_portal_link")
        # queued, not sent inside the request: the mail queue sends it within a minute
        template.send_mail(link.id, email_values={"email_to": email, "recipient_ids": []})
        self.partner_id._message_log(
            body=_("A new link to the reminder page was sent to %(email)s at the customer's request.", email=email)
        )
        return link
