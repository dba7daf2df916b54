"""The scheduled run: which invoices are due for which level, for whom, on
which channel, and the queueing and sending of the messages.

The decision is made set-wise, a batch of customers at a time: one SQL query
finds the open invoices of the batch with their policy and reference due date,
the levels are matched in Python against each customer's local date, and the
rules (threshold, minimum interval, contact budget, send window, channels) are
checked per group of invoices. Nothing here loads every invoice at once.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg2 import IntegrityError

from odoo import _, api, fields, models

from ..tools.schedule import in_send_window, level_candidates, next_window_start, pick_level, to_local

_logger = logging.getLogger(__name__)

BATCH_CUSTOMERS = 500
BATCH_INVOICES = 5000  # a batch closes at whichever limit comes first
CRON_TIME_BUDGET = 240  # seconds per cron call; the runner calls again while work remains

OPEN_INVOICE_WHERE = """
    m.move_type = 'out_invoice'
    AND m.state = 'posted'
    AND m.payment_state IN ('not_paid', 'partial')
    AND m.amount_residual > 0
"""


@dataclass
class ReminderGroup:
    """Invoices of one customer at one level: what one message covers."""

    policy: object
    level: object
    partner: object  # commercial partner
    moves: object
    ref_dates: dict = field(default_factory=dict)  # move id -> due date the level refers to
    amount: float = 0.0  # in company currency
    recipient_tz: str = "UTC"
    skip_reason: str = None
    skip_detail: str = None
    next_time: datetime = None
    planned: list = field(default_factory=list)  # [(channel, recipient partner, address or None, reason)]
    contacts: object = None  # who may receive it, in order (see _set_contacts)
    move_partner_ids: list = field(default_factory=list)  # the invoices' contacts, in invoice order


class AccountPaymentReminderRun(models.AbstractModel):
    _name = "account.payment.reminder.run"
    _description = "Payment Reminder Run"

    # === ENTRY POINT === #

    @api.model
    def _run(self, send=True, partner_ids=None):
        """Decide and send what is due now. Returns counters for the summary.

        :param send: False makes a dry run: the decisions are returned under
            ``"groups"`` and nothing is written
        :param partner_ids: restrict to these commercial partners
        """
        # sudo: the scheduler works across companies and writes the history, which users only read.
        self = self.sudo().with_context(tracking_disable=True, mail_notrack=True)
        Message = self.env["account.payment.reminder.message"]
        cron = self.env.ref("account_payment_reminder.ir_cron_send_reminders", raise_if_not_found=False)
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        auto_commit = send and self.env["account.move"]._can_commit()
        now = fields.Datetime.now()
        stats = defaultdict(int)
        stats["groups"] = []
        started = time.monotonic()

        if send:
            Message._cron_fail_interrupted()
            Message._cron_update_effectiveness()
            due = Message.search([("state", "=", "queued"), ("next_attempt_at", "<=", now)], order="id")
            stats["retried"] = len(due._dispatch())

        wake_up = []
        if send and not partner_ids:
            stats["plan_messages"] = len(self._run_plans(now))
            self.env["account.payment.reminder.promise"]._cron_check_promises()
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # plans and promises before the ladder
        partners = self._get_candidate_partners(partner_ids)
        total, done = len(partners), 0
        for batch in self._split_batches(partners):
            batch = [partner_id for partner_id, _count in batch]
            groups = self._decide(batch, now)
            stats["customers"] += len(batch)
            for group in groups:
                stats[f"skipped_{group.skip_reason}" if group.skip_reason else "due"] += 1
                if group.next_time:
                    wake_up.append(group.next_time)
            if not send:
                stats["groups"].extend(groups)
                done += len(batch)
                continue
            messages = self._apply(groups)
            stats["queued"] += len(messages)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the queued rows are durable before any provider is called
            sent = messages._dispatch()
            stats["sent"] += len(sent.filtered(lambda m: m.state in ("sent", "delivered", "read")))
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # one batch, one transaction
            self.env.invalidate_all(flush=True)  # memory stays flat, however many batches
            if in_cron and time.monotonic() - started > CRON_TIME_BUDGET and done < total:
                break  # the cron runner calls us again for the rest
        if send:
            retry_at = Message.search([("state", "=", "queued")], order="next_attempt_at", limit=1).next_attempt_at
            wake_up += [retry_at] if retry_at else []
            future = [moment for moment in wake_up if moment > now]
            if cron and future:
                cron._trigger(at=min(future))
        stats["failed"] = Message.search_count([("state", "=", "failed"), ("queued_at", ">=", now)])
        stats["seconds"] = round(time.monotonic() - started, 2)
        _logger.info(
            "Payment reminders: %s customers, %s due, %s queued, %s sent in %ss",
            stats["customers"],
            stats["due"],
            stats["queued"],
            stats["sent"],
            stats["seconds"],
        )
        return stats

    def _batch_size(self):
        return BATCH_CUSTOMERS

    def _split_batches(self, partners):
        """Batches of ``(partner id, open invoices)``: at most the batch size in
        customers and about BATCH_INVOICES invoices, so that memory and
        transactions stay small whatever the ledger looks like."""
        batch, invoices = [], 0
        for partner in partners:
            if batch and (len(batch) >= self._batch_size() or invoices + partner[1] > BATCH_INVOICES):
                yield batch
                batch, invoices = [], 0
            batch.append(partner)
            invoices += partner[1]
        if batch:
            yield batch

    # === DECISION === #

    def _get_candidate_partners_query(self):
        return f"""
            SELECT m.commercial_partner_id, COUNT(*)
              FROM account_move m
             WHERE {OPEN_INVOICE_WHERE}
               AND (%(partner_ids)s IS NULL OR m.commercial_partner_id = ANY(%(partner_ids)s))
             GROUP BY 1
             ORDER BY 1
        """

    def _get_candidate_partners(self, partner_ids=None):
        """(commercial partner id, number of open invoices) of the customers
        with at least one open customer invoice."""
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model()
        self.env.cr.execute(
            self._get_candidate_partners_query(),
            {"today": fields.Date.context_today(self), "partner_ids": list(partner_ids) if partner_ids else None},
        )
        return self.env.cr.fetchall()

    def _get_open_invoices_query(self):
        """Open invoices of a batch of customers, with the policy that applies
        (invoice, else customer, else company), the due dates that matter (the
        earliest open instalment, the earliest early-discount deadline) and
        what may hold them (exclusion, payment plan, promise, hold)."""
        return f"""
            SELECT m.id, m.commercial_partner_id, pol.id AS policy_id,
                   m.payment_reminder_level_id, m.payment_reminder_ref_date,
                   d.due, CASE WHEN pt.early_discount AND m.payment_state = 'not_paid' THEN d.disc END,
                   m.amount_residual_signed, m.partner_id,
                   COALESCE(m.payment_reminder_exclude, FALSE) OR COALESCE(cp.payment_reminder_exclude, FALSE),
                   EXISTS (
                       SELECT 1
                         FROM account_payment_reminder_plan_move_rel pr
                         JOIN account_payment_reminder_plan plan ON plan.id = pr.plan_id
                        WHERE pr.move_id = m.id AND plan.state = 'active'
                   ),
                   (
                       SELECT MAX(pro.date + COALESCE(pro.grace_days, 0))
                         FROM account_payment_reminder_promise pro
                        WHERE pro.partner_id = m.commercial_partner_id
                          AND pro.state = 'open'
                          AND (
                              NOT EXISTS (SELECT 1 FROM account_payment_reminder_promise_move_rel r
                                           WHERE r.promise_id = pro.id)
                              OR EXISTS (SELECT 1 FROM account_payment_reminder_promise_move_rel r
                                          WHERE r.promise_id = pro.id AND r.move_id = m.id)
                          )
                   ),
                   GREATEST(m.payment_reminder_hold_until, cp.payment_reminder_hold_until)
              FROM account_move m
              JOIN res_partner cp ON cp.id = m.commercial_partner_id
              JOIN res_company comp ON comp.id = m.company_id
              LEFT JOIN account_payment_term pt ON pt.id = m.invoice_payment_term_id
              LEFT JOIN account_payment_reminder_policy ipol
                     ON ipol.id = m.payment_reminder_policy_id AND ipol.active AND ipol.company_id = m.company_id
              LEFT JOIN account_payment_reminder_policy ppol
                     ON ppol.id = cp.payment_reminder_policy_id AND ppol.active AND ppol.company_id = m.company_id
              LEFT JOIN account_payment_reminder_policy cpol
                     ON cpol.id = comp.payment_reminder_policy_id AND cpol.active
             CROSS JOIN LATERAL (SELECT COALESCE(ipol.id, ppol.id, cpol.id) AS id) pol
             CROSS JOIN LATERAL (
                    SELECT MIN(l.date_maturity) AS due,
                           MIN(l.discount_date) FILTER (WHERE l.discount_date >= %(today)s) AS disc
                      FROM account_move_line l
                     WHERE l.move_id = m.id AND l.display_type = 'payment_term' AND NOT l.reconciled
                   ) d
             WHERE {OPEN_INVOICE_WHERE}
               AND m.commercial_partner_id = ANY(%(partner_ids)s)
               AND pol.id IS NOT NULL
               AND d.due IS NOT NULL
             ORDER BY m.commercial_partner_id, d.due, m.id
        """

    def _decide(self, partner_ids, now):
        """Groups of invoices due for a level now, each with its plan or the
        reason it waits. Writes nothing."""
        self.env["account.move"].flush_model()
        # the plan of this query is simple; compiling it (JIT) costs more than running it
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute(
            self._get_open_invoices_query(),
            {"today": fields.Date.context_today(self), "partner_ids": list(partner_ids)},
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return []
        Policy = self.env["account.payment.reminder.policy"]
        Level = self.env["account.payment.reminder.level"]
        policies = Policy.browse({row[2] for row in rows})
        # plain values, read once: the loop below runs once per open invoice
        ladders = {policy.id: policy._get_ladder() for policy in policies}
        settings = {
            policy.id: (policy.date_from, policy.grouping == "invoice", policy._get_fallback_tz())
            for policy in policies
        }
        level_keys = {
            level.id: (level.sequence, level.id) for level in Level.browse({row[3] for row in rows if row[3]})
        }
        partners = self.env["res.partner"].browse(partner_ids)
        partner_tz = {p.id: p.tz for p in partners}
        moves = self.env["account.move"].browse([row[0] for row in rows])
        utc_horizon = now.date() + timedelta(days=1)  # customers east of UTC may already be a day ahead
        local_today_by_tz = {}

        buckets = {}
        for row in rows:
            move_id, partner_id, policy_id, cur_level_id, ref_date, due, disc, amount = row[:8]
            date_from, per_invoice, fallback_tz = settings[policy_id]
            if date_from and due < date_from:
                continue
            candidates = level_candidates(ladders[policy_id], level_keys.get(cur_level_id), ref_date != due, due, disc)
            # cheap first pass in UTC; the exact local date is checked next
            if not pick_level(candidates, utc_horizon):
                continue
            tz = partner_tz.get(partner_id) or fallback_tz
            local_today = local_today_by_tz.get(tz)
            if local_today is None:
                local_today = local_today_by_tz[tz] = to_local(now, tz).date()
            level_id = pick_level(candidates, local_today)
            if not level_id:
                continue  # not yet due where the customer lives
            block = self._get_block(row[9:], local_today)
            key = (partner_id, level_id, move_id if per_invoice else None, block)
            bucket = buckets.setdefault(
                key, {"policy": policy_id, "moves": [], "refs": {}, "amount": 0.0, "contacts": {}}
            )
            bucket["moves"].append(move_id)
            bucket["contacts"][row[8]] = True
            bucket["refs"][move_id] = due
            bucket["amount"] += amount or 0.0

        groups = [
            ReminderGroup(
                policy=Policy.browse(bucket["policy"]),
                level=Level.browse(level_id),
                partner=partners.browse(partner_id).with_prefetch(partners._prefetch_ids),
                moves=moves.browse(bucket["moves"]).with_prefetch(moves._prefetch_ids),
                ref_dates=bucket["refs"],
                amount=bucket["amount"],
                move_partner_ids=list(bucket["contacts"]),
                skip_reason=block,
            )
            for (partner_id, level_id, _move, block), bucket in buckets.items()
        ]
        self._check_rules([group for group in groups if not group.skip_reason], now)
        return groups

    @staticmethod
    def _get_block(flags, local_today):
        """Why a due invoice must wait, or None: excluded, in an active payment
        plan, under a promise to pay (until its date plus grace), on hold."""
        excluded, in_plan, promise_until, hold_until = flags
        if excluded:
            return "excluded"
        if in_plan:
            return "plan"
        if promise_until and promise_until >= local_today:
            return "promise"
        if hold_until and hold_until >= local_today:
            return "hold"
        return None

    def _check_rules(self, groups, now):
        """Fill each group's plan, or its skip reason, from the policy's rules."""
        contacts = self._get_recent_contacts({(g.policy.company_id.id, g.partner.id) for g in groups}, now)
        self._set_contacts(groups)
        used = defaultdict(int)
        memo = {}  # gateways, addresses and local times, shared by the groups of the batch
        # the highest levels first, so that a tight budget goes to the most urgent message
        for group in sorted(groups, key=lambda g: (-g.level.sequence, g.partner.id)):
            self._check_group(group, now, contacts, used, memo)

    def _set_contacts(self, groups):
        """Who may receive each group's message, in order: the invoices'
        contacts, then the customer's invoicing address, then the customer.
        The groups share one prefetch set, so addresses are read once."""
        invoice_address, contact_ids = {}, {}
        for group in groups:
            partner = group.partner
            if partner.id not in invoice_address:
                invoice_address[partner.id] = partner.address_get(["invoice"])["invoice"]
            move_partner_ids = group.move_partner_ids or group.moves.partner_id.ids
            ids = dict.fromkeys([*move_partner_ids, invoice_address[partner.id], partner.id])
            group.contacts = partner.browse(ids)
            contact_ids.update(ids)
        for group in groups:
            group.contacts = group.contacts.with_prefetch(tuple(contact_ids))

    def _get_recent_contacts(self, company_partner_pairs, now):
        """{(company id, partner id): (last message time, messages in the last 7 days)}."""
        if not company_partner_pairs:
            return {}
        self.env["account.payment.reminder.message"].flush_model()
        self.env.cr.execute(
            """
            SELECT company_id, partner_id, MAX(queued_at),
                   COUNT(*) FILTER (WHERE queued_at > %(week_ago)s)
              FROM account_payment_reminder_message
             WHERE partner_id = ANY(%(partners)s)
               AND state NOT IN ('failed', 'cancelled')
               AND queued_at > %(horizon)s
             GROUP BY company_id, partner_id
            """,
            {
                "partners": list({partner for _company, partner in company_partner_pairs}),
                "week_ago": now - timedelta(days=7),
                "horizon": now - timedelta(days=366),
            },
        )
        return {(company, partner): (last, count) for company, partner, last, count in self.env.cr.fetchall()}

    def _check_group(self, group, now, contacts, used, memo):
        policy, partner = group.policy, group.partner
        key = (policy.company_id.id, partner.id)
        last, week_count = contacts.get(key, (None, 0))
        if policy.min_amount and group.amount < policy.min_amount:
            group.skip_reason = "below_threshold"
            return
        if last and policy.min_interval_days and key not in used:
            allowed = last + timedelta(days=policy.min_interval_days)
            if allowed > now:
                group.skip_reason, group.next_time = "min_interval", allowed
                return
        group.planned = self._plan_channels(group, memo=memo)
        if not group.planned:
            return
        cost = sum(1 for _channel, _rcpt, address, _reason in group.planned if address)
        if policy.max_messages_per_week and week_count + used[key] + cost > policy.max_messages_per_week:
            group.skip_reason, group.planned = "budget", []
            return
        tz = group.recipient_tz
        weekdays = policy._get_window_weekdays()
        local_now = memo.get(("local", tz)) or memo.setdefault(("local", tz), to_local(now, tz))
        if not in_send_window(local_now, policy.window_start, policy.window_end, weekdays):
            group.skip_reason, group.planned = "outside_window", []
            group.next_time = next_window_start(now, tz, policy.window_start, policy.window_end, weekdays)
            return
        used[key] += cost

    def _plan_channels(self, group, channels=None, strategy=None, memo=None):
        """[(channel, recipient partner, address or None, failure reason)] for a
        group: with the 'fallback' strategy the first channel that can reach the
        customer (or the first one, failed with every reason, when none can);
        with 'all', every channel. Sets the group's skip reason when no channel
        has a gateway.

        :param memo: a dict the caller keeps across the groups of one decision,
            so that gateways and addresses are looked up once
        """
        memo = {} if memo is None else memo
        level = group.level
        channels = level._get_channels() if channels is None else channels
        strategy = strategy or level.channel_strategy
        company = group.policy.company_id
        Gateway = self.env["account.payment.reminder.gateway"]
        for channel in channels:
            if ("gateway", company.id, channel) not in memo:
                memo["gateway", company.id, channel] = bool(Gateway._get_for_channel(company, channel))
        usable = [c for c in channels if memo["gateway", company.id, c]]
        if not usable:
            group.skip_reason = "no_gateway"
            return []
        allowed = [c for c in usable if not group.partner[f"payment_reminder_optout_{c}"]]
        if not allowed:
            group.skip_reason = "opt_out"
            return []
        plans, reasons = [], []
        for channel in allowed:
            recipient, address, reason = self._get_recipient(group, channel, memo=memo)
            plans.append((channel, recipient, address, reason))
            if address and strategy == "fallback":
                return [plans[-1]]
            reasons.append(reason)
        if strategy == "fallback":
            channel, recipient, _address, _reason = plans[0]
            return [(channel, recipient, None, "; ".join(dict.fromkeys(filter(None, reasons))))]
        return plans

    def _get_recipient(self, group, channel, memo=None):
        """(contact, address, reason): the invoices' contacts first, then the
        customer's invoicing address, then the customer itself."""
        partner = group.partner
        if group.contacts is None:
            self._set_contacts([group])
        reason = None
        memo = {} if memo is None else memo
        for contact in group.contacts:
            key = ("address", contact.id, channel, group.policy.id)
            if key not in memo:
                memo[key] = contact._payment_reminder_address(channel, policy=group.policy)
            address, reason = memo[key]
            if address:
                group.recipient_tz = contact.tz or partner.tz or group.policy._get_fallback_tz()
                return contact, address, None
        group.recipient_tz = partner.tz or group.policy._get_fallback_tz()
        return partner, None, reason

    # === QUEUEING === #

    def _apply(self, groups):
        """Write the messages of the groups that go now and move their invoices
        to the level. Returns the queued messages (failed ones are final)."""
        Message = self.env["account.payment.reminder.message"]
        vals_list, group_of = [], []
        for group in groups:
            if group.skip_reason or not group.planned:
                continue
            for channel, recipient, address, reason in group.planned:
                vals_list.append(self._prepare_message_vals(group, channel, recipient, address, reason))
                group_of.append(group)
        if not vals_list:
            return Message
        messages = self._create_messages(vals_list)
        created_groups = {id(group_of[index]): group_of[index] for index, message in enumerate(messages) if message}
        messages = Message.browse([m.id for m in messages if m])
        self._mark_invoices(created_groups.values())
        self._ensure_access_tokens(messages.move_ids)
        messages._render_contents()
        failed = messages.filtered(lambda m: m.state == "failed")
        failed._log_in_chatter()
        return messages - failed

    def _prepare_message_vals(self, group, channel, recipient, address, reason, trigger="cron", parent=None):
        level = group.level
        moves_key = ",".join(str(i) for i in sorted(group.moves.ids))
        refs = ",".join(sorted({str(d) for d in group.ref_dates.values()}))
        vals = {
            "company_id": group.policy.company_id.id,
            "partner_id": group.partner.id,
            "recipient_partner_id": recipient.id,
            "move_ids": [fields.Command.set(group.moves.ids)],
            "policy_id": group.policy.id,
            "level_id": level.id,
            "channel": channel,
            "gateway_id": self.env["account.payment.reminder.gateway"]
            ._get_for_channel(group.policy.company_id, channel)
            .id,
            "recipient": address or False,
            "tz": group.recipient_tz,
            "amount_due": group.amount,
            "trigger": trigger,
            "parent_id": parent and parent.id,
            "idempotency_key": f"{trigger}:{level.id}:{channel}:{refs}:{moves_key}",
        }
        if not address:
            vals.update(
                state="failed",
                failed_at=fields.Datetime.now(),
                failure_code="no_recipient",
                failure_reason=reason,
            )
        return vals

    def _create_messages(self, vals_list):
        """Create the rows; a row whose idempotency key exists already (another
        run got there first) is skipped. Returns a list aligned on vals_list,
        with None for the skipped ones."""
        Message = self.env["account.payment.reminder.message"]
        taken = set(
            Message.search([("idempotency_key", "in", [vals["idempotency_key"] for vals in vals_list])]).mapped(
                "idempotency_key"
            )
        )
        fresh = [vals for vals in vals_list if vals["idempotency_key"] not in taken]
        try:
            with self.env.cr.savepoint(flush=True):
                created = iter(Message.create(fresh))
            return [None if vals["idempotency_key"] in taken else next(created) for vals in vals_list]
        except IntegrityError:
            _logger.info("Payment reminders: another run queued some of these; creating one by one")
        result = []
        for vals in vals_list:
            try:
                with self.env.cr.savepoint(flush=True):
                    result.append(Message.create(vals))
            except IntegrityError:
                _logger.info("Payment reminder %s was queued by another run", vals["idempotency_key"])
                result.append(None)
        return result

    def _mark_invoices(self, groups):
        """Record the level reached on each invoice, and schedule its activity."""
        now = fields.Datetime.now()
        by_values = defaultdict(list)
        for group in groups:
            for move in group.moves:
                by_values[(group.level.id, group.ref_dates.get(move.id))].append(move.id)
        Move = self.env["account.move"]
        Move.flush_model(["payment_reminder_level_id", "payment_reminder_ref_date", "payment_reminder_last_date"])
        for (level_id, ref_date), move_ids in by_values.items():
            # SQL: three bookkeeping columns of posted invoices; account.move.write() would re-check the
            # balance and resync the invoice lines of every invoice for nothing
            self.env.cr.execute(
                """
                UPDATE account_move
                   SET payment_reminder_level_id = %s, payment_reminder_ref_date = %s,
                       payment_reminder_last_date = %s
                 WHERE id = ANY(%s)
                """,
                [level_id, ref_date, now, move_ids],
            )
        Move.invalidate_model(["payment_reminder_level_id", "payment_reminder_ref_date", "payment_reminder_last_date"])
        for group in groups:
            self._schedule_activity(group)

    def _ensure_access_tokens(self, moves):
        """Give the invoices their portal access token, all at once: the pay
        links need it, and portal.mixin would write them one by one through
        account.move.write (balance checks and line sync included)."""
        moves.flush_recordset(["access_token"])
        # SQL: uuid4 tokens like portal.mixin's, for the invoices that have none yet
        self.env.cr.execute(
            """
            UPDATE account_move SET access_token = gen_random_uuid()::text
             WHERE id = ANY(%s) AND access_token IS NULL
            """,
            [moves.ids],
        )
        moves.invalidate_recordset(["access_token"])

    def _schedule_activity(self, group):
        level = group.level
        if not level.activity_type_id:
            return
        move = group.moves[:1]
        user = level.activity_user_id or move.invoice_user_id or self.env.user
        move.activity_schedule(
            activity_type_id=level.activity_type_id.id,
            summary=_("%(level)s: %(customer)s", level=level.name, customer=group.partner.name),
            note=_("%(count)s invoice(s) reached this level.", count=len(group.moves)),
            user_id=user.id,
        )

    # === PAYMENT PLANS === #

    def _run_plans(self, now):
        """Reminders of the active payment plans: before and after each
        instalment, and the notice when a plan breaks. Returns the messages."""
        Message = self.env["account.payment.reminder.message"]
        plans = self.env["account.payment.reminder.plan"].search([("state", "=", "active")])
        queued = Message
        for plan in plans._check_done():
            policy = plan.move_ids[:1]._get_payment_reminder_policy()
            tz = plan.partner_id.tz or (policy and policy._get_fallback_tz()) or "UTC"
            kind, line = plan._get_due_reminder(to_local(now, tz).date())
            if not kind:
                continue
            if kind == "plan_broken":
                plan._break(line)
            message = self._queue_plan_message(plan, kind, line, policy)
            queued |= message
        return queued._dispatch()

    def _queue_plan_message(self, plan, kind, line=None, policy=None, trigger="cron"):
        """Queue (and render) one message of a payment plan on its channel,
        falling back to e-mail when the channel cannot reach the customer."""
        policy = policy or plan.move_ids[:1]._get_payment_reminder_policy()
        group = ReminderGroup(
            policy=policy,
            level=self.env["account.payment.reminder.level"],
            partner=plan.partner_id,
            moves=plan.move_ids,
            amount=sum(plan.move_ids.mapped("amount_residual_signed")),
        )
        channels = list(dict.fromkeys([plan.channel, "email"]))
        planned = self._plan_channels(group, channels=channels, strategy="fallback")
        if not planned:
            return self.env["account.payment.reminder.message"]
        channel, recipient, address, reason = planned[0]
        vals = self._prepare_message_vals(group, channel, recipient, address, reason, trigger=trigger)
        suffix = line.id if line else "plan"
        vals.update(
            kind=kind,
            plan_id=plan.id,
            plan_line_id=line and line.id,
            idempotency_key=f"{kind}:{plan.id}:{suffix}",
            user_id=trigger == "manual" and self.env.user.id,
        )
        created = self._create_messages([vals])[0]
        if not created:
            return self.env["account.payment.reminder.message"]
        created._render_contents()
        if created.state == "failed":
            created._log_in_chatter()
            return created.browse()
        return created

    def _queue_channels(self, failed, channels):
        """Fallback: queue the next channel that can reach the customer after
        ``failed`` failed for good. Returns the new queued message, if any."""
        Message = self.env["account.payment.reminder.message"]
        if not channels:
            return Message
        group = ReminderGroup(
            policy=failed.policy_id or failed.move_ids[:1]._get_payment_reminder_policy(),
            level=failed.level_id,
            partner=failed.partner_id,
            moves=failed.move_ids,
            ref_dates=dict.fromkeys(failed.move_ids.ids, None),
            amount=failed.amount_due,
        )
        planned = self._plan_channels(group, channels=channels, strategy="fallback")
        if not planned:
            return Message
        channel, recipient, address, reason = planned[0]
        vals = self._prepare_message_vals(group, channel, recipient, address, reason, parent=failed)
        vals.update(
            idempotency_key=f"fallback:{failed.id}:{channel}",
            kind=failed.kind,
            plan_id=failed.plan_id.id,
            plan_line_id=failed.plan_line_id.id,
            trigger=failed.trigger,
            user_id=failed.user_id.id,
        )
        created = self._create_messages([vals])[0]
        if not created:
            return Message
        created._render_contents()
        if created.state == "failed":
            created._log_in_chatter()
            return Message
        return created
