"""The decision: which invoices are due for which level, for whom, on which
channel, or why they wait. Writes nothing."""

import logging
from collections import defaultdict
from datetime import timedelta

from odoo import fields, models

from ..tools.schedule import level_candidates, pick_level, to_local
from .account_move import OPEN_INVOICE_WHERE
from .account_payment_reminder_run import ReminderGroup

_logger = logging.getLogger(__name__)


class AccountPaymentReminderRun(models.AbstractModel):
    _inherit = "account.payment.reminder.run"

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
            SELECT m.id, m.commercial_partner_id AS partner_id, pol.id AS policy_id,
                   m.payment_reminder_level_id AS level_id, m.payment_reminder_ref_date AS ref_date,
                   d.due, CASE WHEN pt.early_discount AND m.payment_state = 'not_paid' THEN d.disc END AS discount_date,
                   m.amount_residual_signed AS amount, m.partner_id AS contact_id,
                   COALESCE(m.payment_reminder_exclude, FALSE) OR COALESCE(cp.payment_reminder_exclude, FALSE)
                       AS excluded,
                   EXISTS (
                       SELECT 1
                         FROM account_payment_reminder_plan_move_rel pr
                         JOIN account_payment_reminder_plan plan ON plan.id = pr.plan_id
                        WHERE pr.move_id = m.id AND plan.state = 'active'
                   ) AS in_plan,
                   (
                       SELECT MAX(pro.date + COALESCE(pro.grace_days, 0))
                         FROM account_payment_reminder_promise pro
                        WHERE pro.partner_id = m.commercial_partner_id
                          AND pro.company_id = m.company_id
                          AND pro.state = 'open'
                          AND (
                              NOT EXISTS (SELECT 1 FROM account_payment_reminder_promise_move_rel r
                                           WHERE r.promise_id = pro.id)
                              OR EXISTS (SELECT 1 FROM account_payment_reminder_promise_move_rel r
                                          WHERE r.promise_id = pro.id AND r.move_id = m.id)
                          )
                   ) AS promise_until,
                   GREATEST(m.payment_reminder_hold_until, cp.payment_reminder_hold_until) AS hold_until
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
        rows = self.env.cr.dictfetchall()  # by name: the query is an override hook
        if not rows:
            return []
        Policy = self.env["account.payment.reminder.policy"]
        Level = self.env["account.payment.reminder.level"]
        policies = Policy.browse({row["policy_id"] for row in rows})
        # plain values, read once: the loop below runs once per open invoice
        ladders = {policy.id: policy._get_ladder() for policy in policies}
        settings = {
            policy.id: (policy.date_from, policy.grouping == "invoice", policy._get_fallback_tz())
            for policy in policies
        }
        reached = Level.browse({row["level_id"] for row in rows if row["level_id"]})
        level_keys = {level.id: (level.sequence, level.id) for level in reached}
        partners = self.env["res.partner"].browse(partner_ids)
        partner_tz = {p.id: p.tz for p in partners}
        moves = self.env["account.move"].browse([row["id"] for row in rows])
        utc_horizon = now.date() + timedelta(days=1)  # customers east of UTC may already be a day ahead
        local_today_by_tz = {}

        buckets = {}
        for row in rows:
            move_id, partner_id, policy_id, due = row["id"], row["partner_id"], row["policy_id"], row["due"]
            date_from, per_invoice, fallback_tz = settings[policy_id]
            if date_from and due < date_from:
                continue
            candidates = level_candidates(
                ladders[policy_id], level_keys.get(row["level_id"]), row["ref_date"] != due, due, row["discount_date"]
            )
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
            block = self._get_block(row, local_today)
            key = (partner_id, level_id, move_id if per_invoice else None, block)
            bucket = buckets.setdefault(
                key, {"policy": policy_id, "moves": [], "refs": {}, "amount": 0.0, "contacts": {}}
            )
            bucket["moves"].append(move_id)
            bucket["contacts"][row["contact_id"]] = True
            bucket["refs"][move_id] = due
            bucket["amount"] += row["amount"] or 0.0

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
    def _get_block(row, local_today):
        """Why a due invoice must wait, or None: excluded, in an active payment
        plan, under a promise to pay (until its date plus grace), on hold."""
        if row["excluded"]:
            return "excluded"
        if row["in_plan"]:
            return "plan"
        if row["promise_until"] and row["promise_until"] >= local_today:
            return "promise"
        if row["hold_until"] and row["hold_until"] >= local_today:
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
        local_now = memo.get(("local", tz)) or memo.setdefault(("local", tz), to_local(now, tz))
        is_open, opens_at = policy._check_send_window(now, tz, local_now=local_now)
        if not is_open:
            group.skip_reason, group.planned, group.next_time = "outside_window", [], opens_at
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
