"""What customers do on the reminder page: one record per action.

Promises, plan requests, "already paid" and disputes, channel preferences and
online payments each leave a response, linked to the reminder that led the
customer there, logged in the chatter of the invoices and the customer, and,
when the accountant must decide, an activity. Everything a customer types is
stored as plain text and escaped wherever it is shown.
"""

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, plaintext2html
from odoo.tools.mimetypes import guess_mimetype

from ..tools.plans import can_split, instalment_dates, split_amount
from .account_payment_reminder_level import CHANNELS

KINDS = [
    ("promise", "Promise to pay"),
    ("plan", "Payment plan request"),
    ("paid", "Reported as paid"),
    ("dispute", "Dispute"),
    ("preferences", "Channel preferences"),
    ("payment", "Online payment"),
]
TEXT_MAX = 2000  # characters kept of what a customer types
PROOF_MAX_BYTES = 10 * 1024 * 1024
PROOF_MIMETYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}


class AccountPaymentReminderResponse(models.Model):
    _name = "account.payment.reminder.response"
    _description = "Customer Response to Reminders"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    kind = fields.Selection(KINDS, required=True, readonly=True, index=True)
    state = fields.Selection(
        [("to_review", "To Review"), ("done", "Done")], default="done", required=True, tracking=True, index=True
    )
    partner_id = fields.Many2one("res.partner", "Customer", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    access_id = fields.Many2one("account.payment.reminder.access", "Link", readonly=True, ondelete="set null")
    message_id = fields.Many2one(
        "account.payment.reminder.message",
        "Reminder",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The last reminder the customer received before acting: the one that led to the page.",
    )
    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_response_move_rel",
        "response_id",
        "move_id",
        string="Invoices",
        readonly=True,
    )
    promise_id = fields.Many2one("account.payment.reminder.promise", readonly=True, ondelete="set null")
    plan_id = fields.Many2one("account.payment.reminder.plan", readonly=True, ondelete="set null")
    transaction_id = fields.Many2one("payment.transaction", readonly=True, ondelete="set null")
    transaction_state = fields.Selection(related="transaction_id.state", string="Payment Status")
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True)
    payment_date = fields.Date("Paid On", readonly=True)
    payment_reference = fields.Char(readonly=True)
    note = fields.Text("Customer's Words", readonly=True)
    attachment_ids = fields.Many2many("ir.attachment", string="Proof", readonly=True)
    hold_until = fields.Date("Invoices On Hold Until", readonly=True)
    user_id = fields.Many2one("res.users", "Responsible", tracking=True)

    @api.depends("kind", "partner_id")
    def _compute_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for response in self:
            response.name = f"{response.partner_id.name or ''}: {kinds.get(response.kind, '')}"

    # === THE ACCOUNTANT'S REVIEW === #

    def action_resume_reminders(self):
        """Reviewed: lift the hold the response put on the invoices."""
        self._release_hold()
        return self.action_mark_reviewed()

    def action_mark_reviewed(self):
        """Reviewed: the invoices keep whatever hold they have."""
        to_review = self.filtered(lambda r: r.state == "to_review")
        to_review.write({"state": "done"})
        to_review.activity_feedback(["mail.mail_activity_data_todo"], feedback=_("Reviewed"))
        return True

    def action_open_moves(self):
        self.ensure_one()
        return self.move_ids._payment_reminder_action_open()

    def _release_hold(self):
        """Lift the hold this response put on its invoices, unless the
        accountant has changed it since."""
        for response in self.filtered("hold_until"):
            moves = response.move_ids.filtered(lambda m, r=response: m.payment_reminder_hold_until == r.hold_until)
            moves.write({"payment_reminder_hold_until": False, "payment_reminder_hold_reason": False})

    # === DASHBOARD === #

    @api.model
    def _get_dashboard_domains(self, company):
        """What the credit controller's overview counts, as domains:
        ``promises`` (open promises made on the page), ``plan_requests`` (plans
        waiting for approval), ``disputes`` (disputes to review) and
        ``to_review`` ("already paid" to check against the bank). Each
        response counts once."""
        base = [("company_id", "=", company.id)]
        return {
            "promises": base + [("kind", "=", "promise"), ("promise_id.state", "=", "open")],
            "plan_requests": base + [("kind", "=", "plan"), ("plan_id.state", "=", "pending")],
            "disputes": base + [("kind", "=", "dispute"), ("state", "=", "to_review")],
            "to_review": base + [("kind", "=", "paid"), ("state", "=", "to_review")],
        }

    @api.model
    def _get_dashboard_counts(self, company):
        """{key: count} of ``_get_dashboard_domains``."""
        return {key: self.search_count(domain) for key, domain in self._get_dashboard_domains(company).items()}

    # === WHAT THE CUSTOMER DOES (called by the page, in sudo) === #

    @api.model
    def _record(self, access, kind, moves, state="done", **values):
        """Create the response, tell the reminder that led to it, log it in
        the chatter of the invoices and the customer."""
        message = access._get_last_message()
        response = self.create(
            {
                "kind": kind,
                "state": state,
                "partner_id": access.partner_id.id,
                "company_id": access.company_id.id,
                "access_id": access.id,
                "message_id": message.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "user_id": self._get_responsible_user(access).id,
                **values,
            }
        )
        message._record_response(response)
        body = Markup(
            self.env["ir.qweb"]._render(
                "account_payment_reminder.response_chatter_note", {"response": response}, minimal_qcontext=True
            )
        )
        author = access.partner_id.id
        if response.attachment_ids:  # each invoice carries its own copy of the proof
            for move in moves:
                proof = response.attachment_ids.filtered(lambda a, m=move: a.res_id == m.id)
                move._message_log(body=body, author_id=author, attachment_ids=proof.ids)
        elif moves:
            moves._message_log_batch(dict.fromkeys(moves.ids, body), author_id=author)
        response.partner_id._message_log(body=body, author_id=author)
        return response

    def _schedule_review(self, summary, record=None):
        """An activity for the responsible accountant, on ``record`` (the
        response itself by default), with the customer's words escaped."""
        self.ensure_one()
        note = Markup("<p>%s</p>") % summary
        if self.note:
            note += Markup(plaintext2html(self.note))
        (record or self).activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=self.user_id.id,
        )

    @api.model
    def _portal_promise(self, access, date, amount=None):
        """The customer promises to pay by ``date`` (at most the policy's
        days ahead), ``amount`` or everything open on its invoices."""
        policy = access._get_policy()
        max_days = policy.portal_promise_max_days if policy else 0
        if max_days <= 0:
            raise UserError(_("Promises to pay cannot be made on this page. Please contact us."))
        today = fields.Date.context_today(self)
        if not date or date < today:
            raise UserError(_("Choose a date from today on."))
        latest = fields.Date.add(today, days=max_days)
        if date > latest:
            raise UserError(
                _(
                    "You can promise to pay within %(days)s days, by %(date)s at the latest.",
                    days=max_days,
                    date=self._format_date(latest),
                )
            )
        promise = access._get_open_promise()
        if promise:
            raise UserError(_("You have already promised to pay by %(date)s.", date=self._format_date(promise.date)))
        currency, moves, due = self._get_main_balance(access)
        if amount is not None and not (0 < currency.round(amount) <= due):
            raise UserError(
                _(
                    "The amount must be more than zero and at most what is due, %(due)s.",
                    due=currency.format(due),
                )
            )
        promise = self.env["account.payment.reminder.promise"].create(
            {
                "partner_id": access.partner_id.id,
                "company_id": access.company_id.id,
                "currency_id": currency.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "date": date,
                "amount": amount or 0.0,
                "source": "portal",
                "user_id": self._get_responsible_user(access).id,
            }
        )
        return self._record(
            access, "promise", moves, promise_id=promise.id, currency_id=currency.id, amount=promise.amount
        )

    @api.model
    def _portal_plan(self, access, count, frequency):
        """The customer asks to pay what is open in ``count`` instalments
        every ``frequency``, the first one today. Within the policy's limits
        the plan starts at once; otherwise it waits for the accountant."""
        policy = access._get_policy()
        options = policy._get_portal_plan_options() if policy else {}
        if not options.get("frequencies") or options.get("max_count", 0) < 2:
            raise UserError(_("Payment plans cannot be requested on this page. Please contact us."))
        if count not in options["counts"] or frequency not in options["frequencies"]:
            raise UserError(_("Choose one of the plans offered."))
        if access._get_plans():
            raise UserError(_("You already have a payment plan, or a request waiting for approval."))
        currency, moves, total = self._get_main_balance(access, include_not_due=True)
        minimum = policy._get_portal_plan_minimum(currency)
        if not can_split(total, count, currency.rounding) or currency.compare_amounts(total / count, minimum) < 0:
            raise UserError(
                _(
                    "Each instalment must be at least %(minimum)s: choose fewer instalments.",
                    minimum=currency.format(minimum),
                )
            )
        today = fields.Date.context_today(self)
        amounts = split_amount(total, count, currency.rounding)
        dates = instalment_dates(today, count, frequency)
        approved = policy._portal_plan_approves(access.partner_id, total, currency)
        user = self._get_responsible_user(access)
        plan = self.env["account.payment.reminder.plan"].create(
            {
                "partner_id": access.partner_id.id,
                "company_id": access.company_id.id,
                "currency_id": currency.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "state": "active" if approved else "pending",
                "source": "portal",
                "user_id": user.id,
                "residual_at_start": total,
                "line_ids": [
                    fields.Command.create({"date": day, "amount": amount})
                    for day, amount in zip(dates, amounts, strict=True)
                ],
            }
        )
        values = {"plan_id": plan.id, "currency_id": currency.id, "amount": total}
        if approved:
            response = self._record(access, "plan", moves, **values)
            plan.message_post(body=_("Payment plan started by the customer on the reminder page."))
            # the customer gets the schedule by the usual channel; the scheduler sends it (no provider call here)
            plan._queue_message("plan_summary", policy=policy)
            self.env.ref("account_payment_reminder.ir_cron_dispatch_messages")._trigger()
            return response
        values["hold_until"] = self._hold(policy, moves, _("Payment plan requested by the customer"))
        response = self._record(access, "plan", moves, state="to_review", **values)
        response._schedule_review(
            _("Approve or refuse the payment plan requested by %(customer)s", customer=access.partner_id.name),
            record=plan,
        )
        return response

    @api.model
    def _portal_report(self, access, kind, moves, note=None, payment_date=None, reference=None, proof=None):
        """The customer says the invoices are paid (``payment_date``,
        ``reference``, ``proof``) or disputes them (``note``): they go on hold
        until the accountant reviews them.

        :param proof: ``(file name, bytes)`` or None
        """
        if not moves:
            raise UserError(_("Choose the invoices concerned."))
        note = (note or "").strip()[:TEXT_MAX]
        reference = (reference or "").strip()[:200]
        if kind == "dispute" and not note:
            raise UserError(_("Tell us what is wrong with the invoice."))
        if kind == "paid":
            today = fields.Date.context_today(self)
            if not payment_date or payment_date > today:
                raise UserError(_("Give the date you paid, today or earlier."))
            if payment_date < fields.Date.subtract(today, years=2):
                raise UserError(_("Give the date you paid, within the last two years."))
        attachments = self.env["ir.attachment"]
        if proof:
            attachments = self._attach_proof(moves, *proof)
        policy = access._get_policy()
        reason = _("Reported as paid by the customer") if kind == "paid" else _("Disputed by the customer")
        hold_until = self._hold(policy, moves, reason)
        response = self._record(
            access,
            kind,
            moves,
            state="to_review",
            note=note or False,
            payment_date=payment_date,
            payment_reference=reference or False,
            attachment_ids=[fields.Command.set(attachments.ids)],
            hold_until=hold_until,
        )
        if kind == "paid":
            summary = _("%(customer)s says these invoices are paid: check them", customer=access.partner_id.name)
        else:
            summary = _("%(customer)s disputes these invoices: review", customer=access.partner_id.name)
        response._schedule_review(summary)
        return response

    @api.model
    def _attach_proof(self, moves, filename, data):
        """Store the customer's proof on each invoice, where the accountant sees
        it in the chatter; without an access token no one else can open it."""
        if len(data) > PROOF_MAX_BYTES:
            raise UserError(_("The file is too large: at most %(size)s MB.", size=PROOF_MAX_BYTES // (1024 * 1024)))
        mimetype = guess_mimetype(data)  # what the file is, whatever its name says
        if mimetype not in PROOF_MIMETYPES:
            raise UserError(_("Send the proof as a PDF or a picture (PNG, JPEG, GIF, WebP)."))
        name = (filename or "proof").replace("/", "_").replace("\\", "_")[-100:] or "proof"
        return self.env["ir.attachment"].create(
            [
                {"name": name, "raw": data, "mimetype": mimetype, "res_model": "account.move", "res_id": move.id}
                for move in moves
            ]
        )

    @api.model
    def _portal_preferences(self, access, optouts, preferred, source=None):
        """The customer's channels: ``optouts`` {channel: bool}, the same
        opt-outs as a STOP reply; ``preferred`` a channel or False."""
        customer = access.partner_id
        labels = dict(CHANNELS)
        if preferred and preferred not in labels:
            raise UserError(_("Choose one of the channels offered."))
        vals = {f"payment_reminder_optout_{channel}": bool(optouts.get(channel)) for channel in labels}
        vals["payment_reminder_preferred_channel"] = preferred or False
        changed = {name: value for name, value in vals.items() if customer[name] != value}
        if not changed:
            return self.browse()
        if any(changed.get(f"payment_reminder_optout_{channel}") for channel in labels):
            vals["payment_reminder_optout_note"] = source or _(
                "Opted out on the reminder page on %(date)s.", date=fields.Date.to_string(fields.Date.today())
            )
        customer.write(vals)
        return self._record(access, "preferences", self.env["account.move"])

    @api.model
    def _portal_payment(self, access, transaction, moves):
        return self._record(
            access,
            "payment",
            moves,
            transaction_id=transaction.id,
            currency_id=transaction.currency_id.id,
            amount=transaction.amount,
        )

    # === HELPERS === #

    @api.model
    def _get_main_balance(self, access, include_not_due=False):
        """``(currency, invoices, amount)`` the promise or the plan covers: the
        currency the customer owes most in (by number of invoices), its open
        invoices and what is open on them."""
        statement = access._get_statement()
        if not statement["invoices"]:
            raise UserError(_("You have no open invoice with us."))
        by_currency = {}
        today = fields.Date.context_today(self)
        for row in statement["invoices"]:
            if include_not_due or row["due"] <= today:
                by_currency.setdefault(row["move"].currency_id, []).append(row)
        if not by_currency:
            by_currency = {statement["invoices"][0]["move"].currency_id: statement["invoices"]}
        currency, rows = max(by_currency.items(), key=lambda item: len(item[1]))
        moves = self.env["account.move"].union(*(row["move"] for row in rows))
        return currency, moves, currency.round(sum(row["amount"] for row in rows))

    @api.model
    def _hold(self, policy, moves, reason):
        """Put the invoices on hold for the policy's review days; returns the date."""
        days = policy.portal_review_days if policy else 14
        until = fields.Date.add(fields.Date.context_today(self), days=max(days, 1))
        # untracked: the page runs as the public user, whom the tracking would name ("Public user: None -> ...");
        # the response's own note, in the customer's name, says it (see _record)
        moves.with_context(mail_notrack=True).write(
            {"payment_reminder_hold_until": until, "payment_reminder_hold_reason": reason}
        )
        return until

    @api.model
    def _get_responsible_user(self, access):
        policy = access._get_policy()
        if not policy:
            return self.env["account.payment.reminder.policy"]._get_responsible(company=access.company_id)
        return policy._get_responsible_user()

    def _format_date(self, date):
        return format_date(self.env, date)
