from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.base.models.res_partner import _tz_get

from ..tools.schedule import WEEKDAYS, in_send_window, next_window_start, to_local


def is_real_user(user):
    """An active internal user, not the system user (OdooBot)."""
    return bool(user) and user.active and not user.share and not user._is_superuser()


class AccountPaymentReminderPolicy(models.Model):
    _name = "account.payment.reminder.policy"
    _description = "Payment Reminder Policy"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    level_ids = fields.One2many("account.payment.reminder.level", "policy_id", string="Levels", copy=True)
    grouping = fields.Selection(
        [
            ("customer", "One message per customer and level"),
            ("invoice", "One message per invoice"),
        ],
        default="customer",
        required=True,
        help="Per customer: one message covers all the customer's invoices that reached the same level.",
    )
    min_interval_days = fields.Integer(
        "Minimum Days Between Reminders",
        default=3,
        help="No automatic reminder goes to a customer who received one (any channel) in the last N days.",
    )
    max_messages_per_week = fields.Integer(
        "Contact Budget (per 7 days)",
        default=4,
        help="At most this many messages per customer over a rolling 7 days, all channels together. 0 means no limit.",
    )
    window_start = fields.Float("Send From", default=8.0, help="Local time of the customer.")
    window_end = fields.Float("Send Until", default=19.0, help="Local time of the customer.")
    window_mon = fields.Boolean("Monday", default=True)
    window_tue = fields.Boolean("Tuesday", default=True)
    window_wed = fields.Boolean("Wednesday", default=True)
    window_thu = fields.Boolean("Thursday", default=True)
    window_fri = fields.Boolean("Friday", default=True)
    window_sat = fields.Boolean("Saturday", default=False)
    window_sun = fields.Boolean("Sunday", default=False)
    default_tz = fields.Selection(
        _tz_get,
        "Fallback Time Zone",
        help="Used for customers without a time zone; when empty, the company's own time zone.",
    )
    learn_timing = fields.Boolean(
        "Learn Each Customer's Hour and Channel",
        default=True,
        help="Within the send window, each customer's messages go at the hour it has read or answered earlier "
        "ones (read receipts, link clicks, replies, payments soon after), and the level's channels are tried in "
        "the order that worked for it. With too little history (fewer than 3 messages seen), the window and the "
        "level's order hold.",
    )
    learn_ab_test = fields.Boolean(
        "A/B Test the Learning",
        help="Half the customers (always the same ones) get the learnt hour and channel, the other half the "
        "defaults; each message records its half, and the effectiveness report compares them.",
    )
    min_amount = fields.Monetary(
        "Minimum Amount",
        currency_field="currency_id",
        help="No reminder asks for less than this amount (in company currency): the total of a "
        "customer's message, or the invoice when messages go per invoice.",
    )
    on_its_way_days = fields.Integer(
        "Wait For Money On Its Way (Days)",
        default=5,
        help="The time a transfer takes to be matched with its invoices. When a customer's money is on its way (a "
        "bank statement line not reconciled yet that comes from the customer or names one of its invoices, an "
        "online payment pending or authorised), the reminders wait this many days from its date for what it "
        "covers; if it is still not matched by then, chasing resumes. 0: reminders do not wait.",
    )
    date_from = fields.Date(
        "Chase Invoices Due From",
        help="Invoices due before this date are left alone (useful when starting with an old ledger).",
    )
    catch_up = fields.Boolean(
        "Catch Up With Old Debts",
        help="Off (recommended): an invoice climbs the levels one at a time. Its first message after the due "
        "date is the first level after the due date, even when it is found long overdue; each next level waits "
        "for its own days from the due date and for the days between the two levels since the previous level's "
        "message went. On: an invoice found late gets at once the level of its age (a final notice for an "
        "invoice 45 days overdue that was never reminded), skipping the levels before it.",
    )
    require_opt_in = fields.Boolean(
        "Require Opt-in for WhatsApp and SMS",
        help="Only message customers on WhatsApp or SMS once their opt-in is recorded.",
    )
    attach_invoices = fields.Boolean(
        "Attach Invoice PDFs",
        help="Reminder e-mails carry the PDF of each invoice they list (Odoo's invoice report, as Odoo's invoice "
        "e-mail), and the customer's statement on the levels that ask for it.",
    )
    attachment_max_size = fields.Float(
        "Attachments Limit (MB)",
        default=10.0,
        digits=(16, 2),
        help="Past this size, a reminder e-mail carries the statement and the invoices' links only, and says so.",
    )
    invoice_contact_cc = fields.Boolean(
        "Invoice Address In Copy",
        help="The customer's invoice address (its accounts-payable contact) gets the reminder e-mails in copy "
        "when they go to another contact.",
    )
    user_id = fields.Many2one(
        "res.users",
        "Credit Controller",
        default=lambda self: self._default_user_id(),
        domain="[('share', '=', False)]",
        help="Gets the phone calls of the final notice and the to-dos raised by customers' replies when the "
        "invoice has no salesperson. Empty: the user who last configured the policy, else the administrator.",
    )
    reminder_message_ids = fields.One2many("account.payment.reminder.message", "policy_id", "Reminders Sent")

    _sql_constraints = [
        ("min_interval_positive", "CHECK(min_interval_days >= 0)", "The minimum interval cannot be negative."),
        ("budget_positive", "CHECK(max_messages_per_week >= 0)", "The contact budget cannot be negative."),
        ("on_its_way_positive", "CHECK(on_its_way_days >= 0)", "The wait for money on its way cannot be negative."),
    ]

    @api.constrains("window_start", "window_end")
    def _check_window(self):
        for policy in self:
            if not (0 <= policy.window_start <= 24 and 0 <= policy.window_end <= 24):
                raise ValidationError(_("Send window hours must be between 00:00 and 24:00."))
            if policy.window_start == policy.window_end:
                raise ValidationError(_("The send window of '%(policy)s' is empty.", policy=policy.name))

    def _resequence_levels(self):
        """Number the levels in the order they escalate (see the level's
        ``_escalation_key``), whatever sequence they were created or imported
        with: the ladder, the lists and every comparison of levels follow the
        days."""
        for policy in self:
            levels = policy.with_context(active_test=False).level_ids.sorted(lambda lv: lv._escalation_key())
            for rank, level in enumerate(levels, start=1):
                if level.sequence != rank * 10:
                    level.with_context(payment_reminder_resequencing=True).sequence = rank * 10
        # the cached lists of levels keep the order they were read in
        self.invalidate_recordset(["level_ids"])

    def _get_ladder(self):
        """The active levels as plain values, highest first: ``(sequence, id,
        on early discount, offset days)`` (see tools.schedule.level_candidates)."""
        self.ensure_one()
        levels = self.level_ids.filtered("active").sorted(lambda lv: (lv.sequence, lv.id), reverse=True)
        return [(lv.sequence, lv.id, lv.trigger == "early_discount", lv.offset_days) for lv in levels]

    def _get_window_weekdays(self):
        """Allowed weekdays as integers, 0 = Monday (Python's ``weekday()``)."""
        self.ensure_one()
        return {index for index, day in enumerate(WEEKDAYS) if self[f"window_{day}"]}

    def _check_send_window(self, now, tz, local_now=None):
        """``(True, None)`` when ``now`` is inside the send window in time zone
        ``tz``, else ``(False, when it opens next as naive UTC, or None when no
        weekday is allowed)``: the one send-window check of the scheduler, the
        dispatcher and the wizard."""
        self.ensure_one()
        weekdays = self._get_window_weekdays()
        if in_send_window(local_now or to_local(now, tz), self.window_start, self.window_end, weekdays):
            return True, None
        return False, next_window_start(now, tz, self.window_start, self.window_end, weekdays)

    @api.model
    def _default_user_id(self):
        """The user creating the policy, unless that is the system (data files, the scheduler)."""
        return self.env.user if is_real_user(self.env.user) else self.env["res.users"]

    def _get_responsible_user(self, salesperson=None):
        """Who gets the policy's to-dos and phone calls: the invoice's
        ``salesperson`` when given, else the credit controller, else the user
        who last configured the policy, else the administrator; never the
        system user (OdooBot) nor a portal user."""
        self.ensure_one()
        for user in (salesperson, self.user_id, self.write_uid, self.create_uid):
            if user and is_real_user(user):
                return user
        return self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user

    @api.model
    def _get_responsible(self, assigned=None, moves=None, company=None):
        """Who is responsible for a plan, a promise or a customer's reply:
        the one home of that rule. The user set on the record when a real
        person; else the policy that applies to the first invoice (or the
        company's) says: the invoice's salesperson, the credit controller...
        (see ``_get_responsible_user``); never the system user (OdooBot), who
        runs the scheduler."""
        if assigned and is_real_user(assigned):
            return assigned
        move = moves[:1] if moves else self.env["account.move"]
        policy = (
            move._get_payment_reminder_policy() if move else (company or self.env.company).payment_reminder_policy_id
        )
        if policy:
            return policy._get_responsible_user(salesperson=move.invoice_user_id)
        return self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user

    def _get_fallback_tz(self):
        self.ensure_one()
        return self.default_tz or self.company_id.partner_id.tz or "UTC"

    # === CRON / PUBLIC ENTRY POINTS === #

    @api.model
    def _cron_send_reminders(self):
        """What the scheduler calls: decide, queue, send. Safe to call at any time
        and twice in a row (see account_payment_reminder_run.py). The
        customers' payment behaviour is refreshed first when not yet today."""
        self.env["account.payment.reminder.behaviour"]._cron_refresh(stale_only=True)
        return self.env["account.payment.reminder.run"]._run(send=True)
