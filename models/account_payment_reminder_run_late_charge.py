"""Late-payment charges in the run: one hook that charges a customer's overdue
invoices (``_charge_late_fees``), its preview that writes nothing
(``_preview_late_fees``, for the dry run), the call site in the send
pipeline (``_charge_queued_late_fees``, called by ``_queue``), and the
invoices paid late, charged once on the next run after their payment
(``_charge_paid_late_fees``, called at the start of the sending run).

What is charged, per overdue invoice: simple interest on what was overdue
each day not charged before, each day at the rate of its period (the
reference rate of its half-year plus the margin: one charge per rate), and
once per invoice, ever, the fixed compensation, in the currency the law
states it in (tools/late_charges.py does the arithmetic). The charges of one
customer and run become one customer invoice per currency (usually one),
draft or posted as the policy says; a charge invoice is never charged itself.
"""

import json
import logging
from collections import defaultdict
from datetime import datetime, time, timedelta

from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, formatLang

from ..tools.late_charges import (
    average_base,
    first_late_day,
    fixed_compensation,
    half_year_start,
    imputed_payments,
    overdue_segments,
    rate_periods,
    simple_interest,
)

_logger = logging.getLogger(__name__)

PAID_LATE_LOOKBACK_DAYS = 92  # payments reconciled this recently are looked at by the next runs


class AccountPaymentReminderRun(models.AbstractModel):
    _inherit = "account.payment.reminder.run"

    # === THE HOOK === #

    def _charge_late_fees(self, partner, moves, level, policy, date):
        """Charge the late payment of ``moves`` (a customer's invoices that
        reached ``level``) on ``date``, when the level charges and the policy
        charges this customer.

        :return: ``(charge invoices, charges)``: the new invoices (one per
            currency, usually one; empty when nothing is charged) and their
            ``account.payment.reminder.late.charge`` records, the summary the
            templates show (``message.late_charge_ids``). Charges that another
            run made first (same invoice, same first day) are not made again:
            both come back empty.
        """
        Charge = self.env["account.payment.reminder.late.charge"]
        vals_list = self._prepare_late_charges(partner, moves, level, policy, date)
        if not vals_list:
            return self.env["account.move"], Charge
        try:
            with self.env.cr.savepoint(flush=True):
                charges = Charge.create(vals_list)
        except IntegrityError:
            _logger.info("Late-payment charges of customer %s were already made by another run", partner.id)
            return self.env["account.move"], Charge
        return self._create_late_charge_invoices(partner, charges, policy, date), charges

    def _preview_late_fees(self, partner, moves, level, policy, date):
        """What ``_charge_late_fees`` would charge, as unsaved charges (the
        dry run and previews show them). Writes nothing."""
        Charge = self.env["account.payment.reminder.late.charge"]
        try:
            vals_list = self._prepare_late_charges(partner, moves, level, policy, date)
        except UserError as error:  # a missing reference rate: the run will say so on the invoices, the policy warns
            _logger.info("Late-payment charges of customer %s cannot be previewed: %s", partner.id, error)
            return Charge
        charges = Charge
        for vals in vals_list:
            charges |= Charge.new(vals)
        return charges

    def _prepare_late_charges(self, partner, moves, level, policy, date):
        """The values of the charges due on ``date`` at ``level``: empty when
        the level or the policy does not charge, or when the customer is not
        one the policy charges (consumers by default). Writes nothing."""
        if not (level.charge_late_fees and policy.late_charges_enabled and policy._late_fee_applies_to(partner)):
            return []
        return self._prepare_late_charge_vals(partner, moves, policy, date, level=level)

    def _prepare_late_charge_vals(self, partner, moves, policy, date, level=None, paid_late=False):
        """Per invoice, the interest of the days not charged before, one
        charge per rate period (the compensation on the first), and once per
        invoice the fixed compensation. Empty when the total is under the
        policy's minimum (the days then stay chargeable). Writes nothing."""
        company = policy.company_id
        sources = moves.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.company_id == company
                and not m.payment_reminder_fee_source_ids
            )  # no charge is ever charged on a charge
        )
        if not sources:
            return []
        Charge = self.env["account.payment.reminder.late.charge"]
        charged_until, has_fee = {}, set()
        previous = Charge.search([("source_move_id", "in", sources.ids)])  # waived ones too: final
        for charge in previous:
            source_id = charge.source_move_id.id
            charged_until[source_id] = max(charged_until.get(source_id, charge.date_to), charge.date_to)
            if charge.has_fee:
                has_fee.add(source_id)
        history = sources._get_payment_reminder_paid_history()
        costs_first = policy.late_imputation_order == "costs_interest_principal"
        settled, remitted = self._get_late_accessory_history(previous) if costs_first else ({}, {})
        consumer = not partner.commercial_partner_id.is_company
        grace = policy.late_grace_days
        vals_list = []
        for move in sources:
            instalments = move._get_payment_reminder_late_instalments(policy, consumer)
            start = first_late_day(instalments, grace)
            date_from = charged_until.get(move.id) or start
            if not start or date_from >= date:
                continue
            currency = move.currency_id
            fee = self._get_late_fee_amount(move, policy, date)
            # the imputation of every payment needs the interest since the first late day
            rates = policy._get_late_interest_rates(min(start, date_from) if costs_first else date_from, date, start)
            payments = history[move.id]
            if costs_first:  # BGB § 367: what was paid went to the costs and interest first
                payments = imputed_payments(
                    instalments,
                    payments + settled.get(move.id, []),
                    grace,
                    rates,
                    costs=fee,
                    remitted=remitted.get(move.id, []),
                )
            segments = overdue_segments(instalments, payments, date_from, date, grace)
            if not segments:
                continue
            if move.id in has_fee:
                fee = 0.0
            periods = rate_periods(segments, rates)
            period_from = date_from
            for index, (_from, period_to, rate, period_segments) in enumerate(periods):
                period_to = date if index == len(periods) - 1 else period_to
                interest = currency.round(simple_interest(period_segments, rate))
                period_fee = fee if index == 0 else 0.0
                if currency.is_zero(interest + period_fee):
                    period_from = period_to
                    continue
                reference = rate - policy.late_interest_margin if policy.late_reference_rate_source else 0.0
                # the half-year whose reference rate applies: the one interest started in when the rate is fixed then
                fixed_on = start + timedelta(days=1) if policy.late_reference_rate_fixed else period_to
                vals_list.append(
                    {
                        "company_id": company.id,
                        "partner_id": partner.commercial_partner_id.id,
                        "source_move_id": move.id,
                        "policy_id": policy.id,
                        "level_id": level.id if level else False,
                        "paid_late": paid_late,
                        "date": date,
                        "date_from": period_from,
                        "date_to": period_to,
                        "days": sum(segment.days for segment in period_segments),
                        "rate": rate,
                        "reference_rate_source": policy.late_interest_type == "reference"
                        and policy.late_reference_rate_source,
                        "reference_rate": reference,
                        "reference_rate_date": half_year_start(fixed_on),
                        "currency_id": currency.id,
                        "base_amount": currency.round(average_base(period_segments)),
                        "interest_amount": interest,
                        "fee_amount": period_fee,
                        "has_fee": not currency.is_zero(period_fee),
                        "amount": interest + period_fee,
                        "amount_company": currency._convert(interest + period_fee, company.currency_id, company, date),
                        "segments": json.dumps(
                            [[str(s.date_from), str(s.date_to), s.days, s.base] for s in period_segments]
                        ),
                        "idempotency_key": Charge._get_idempotency_key(move.id, period_from),
                    }
                )
                period_from = period_to
        total = sum(vals["amount_company"] for vals in vals_list)
        if company.currency_id.compare_amounts(total, policy.late_fee_min_amount or 0.0) < 0:
            return []
        return vals_list

    def _get_late_fee_amount(self, move, policy, date):
        """The fixed compensation of ``move`` in its currency: the policy's
        amount or tier, in the currency the law states it in (the invoice
        total converted to it to find the tier), converted to the invoice's
        currency on ``date`` only when it differs."""
        company = policy.company_id
        currency, fee_currency = move.currency_id, policy.late_fee_currency_id or company.currency_id
        debt = move.amount_total
        if currency != fee_currency:
            debt = currency._convert(debt, fee_currency, company, date)
        fee = fixed_compensation(debt, policy.late_fee_fixed, policy._get_late_fee_tiers())
        if fee and currency != fee_currency:
            fee = fee_currency._convert(fee, currency, company, date)
        return fee

    def _get_late_accessory_history(self, charges):
        """What was paid on, or waived of, the interest and costs already
        charged, per invoice charged: ``({invoice id: [(date, amount)] paid on
        its charge invoices}, {invoice id: [(date, amount)] waived})``, in the
        charge's currency. A charge invoice paid in part pays each of its
        charges in proportion."""
        settled, remitted = defaultdict(list), defaultdict(list)
        charge_moves = charges.charge_move_id.filtered(lambda m: m.state == "posted")
        paid = charge_moves._get_payment_reminder_paid_history() if charge_moves else {}
        for charge in charges:
            source_id = charge.source_move_id.id
            if charge.state == "waived":
                remitted[source_id].append((charge.waived_date or charge.date, charge.amount))
                continue
            move = charge.charge_move_id
            if move.id in paid and move.amount_total:
                share = charge.amount / move.amount_total
                settled[source_id] += [(day, amount * share) for day, amount in paid[move.id]]
        return settled, remitted

    def _create_late_charge_invoices(self, partner, charges, policy, date):
        """One customer invoice per currency for the charges ("Late payment
        charges"), in the customer's language, draft or posted as the policy
        says. Returns the invoices."""
        company = policy.company_id
        commercial = partner.commercial_partner_id
        invoice_partner = commercial.browse(commercial.address_get(["invoice"])["invoice"])
        lang = invoice_partner.lang or commercial.lang or self.env.lang
        Move = self.env["account.move"].with_company(company).with_context(lang=lang)
        invoices = Move
        for currency, currency_charges in charges.grouped("currency_id").items():
            sources = currency_charges.source_move_id
            vals = {
                "move_type": "out_invoice",
                "partner_id": invoice_partner.id,
                "currency_id": currency.id,
                "invoice_date": date,
                "ref": Move.env._("Late payment charges"),
                "invoice_origin": ", ".join(sources.mapped("name")),
                "invoice_user_id": sources[:1].invoice_user_id.id,
                "narration": policy.with_context(lang=lang).late_fee_legal_text or False,
                "payment_reminder_fee_source_ids": [fields.Command.set(sources.ids)],
                "invoice_line_ids": [
                    fields.Command.create(line_vals)
                    for charge in currency_charges
                    for line_vals in self.with_context(lang=lang)._prepare_late_charge_lines(charge, policy)
                ],
            }
            if policy.late_fee_journal_id:
                vals["journal_id"] = policy.late_fee_journal_id.id
            if not commercial.with_company(company).property_payment_term_id:
                vals["invoice_date_due"] = date  # due at once (Odoo would take today's date, not the charge's)
            invoice = Move.create(vals)
            currency_charges.write({"charge_move_id": invoice.id})
            invoices |= invoice
        if policy.late_fee_post == "posted":
            invoices.action_post()
        self._log_late_charges(charges)
        return invoices

    def _prepare_late_charge_lines(self, charge, policy):
        """The invoice lines of one charge: its interest, and its fixed
        compensation when it has one; in the context's language."""
        env, currency = self.env, charge.currency_id

        def amount(value):
            return formatLang(env, value, currency_obj=currency)

        def day(value):
            return format_date(env, value)

        common = {"quantity": 1, "tax_ids": [fields.Command.set(policy.late_fee_tax_ids.ids)]}
        if policy.late_fee_product_id:
            common["product_id"] = policy.late_fee_product_id.id
        lines = []
        if not currency.is_zero(charge.interest_amount):
            segments = json.loads(charge.segments or "[]")
            first_day = fields.Date.to_date(segments[0][0]) if segments else charge.date_from
            last_day = fields.Date.to_date(segments[-1][1]) if segments else charge.date_to
            name = env._(
                "Late-payment interest on %(invoice)s: %(days)s days at %(rate)s %% a year on %(base)s, "
                "from %(date_from)s to %(date_to)s",
                invoice=charge.source_move_id.name,
                days=charge.days,
                rate=formatLang(env, charge.rate, digits=2),
                base=amount(charge.base_amount),
                date_from=day(first_day + timedelta(days=1)),
                date_to=day(last_day),
            )
            if charge.reference_rate_source:  # which rate: the half-year's reference rate and the margin
                sources = dict(charge._fields["reference_rate_source"]._description_selection(env))
                name += " " + env._(
                    "(%(reference)s for the half-year from %(half_year)s: %(reference_rate)s %% + %(margin)s points)",
                    reference=sources[charge.reference_rate_source],
                    half_year=day(charge.reference_rate_date or half_year_start(last_day)),
                    reference_rate=formatLang(env, charge.reference_rate, digits=2),
                    margin=formatLang(env, charge.rate - charge.reference_rate, digits=2),
                )
            if len(segments) > 1:
                name += "\n" + "; ".join(
                    env._(
                        "%(days)s days on %(base)s until %(date)s",
                        days=days,
                        base=amount(base),
                        date=day(fields.Date.to_date(date_to)),
                    )
                    for _date_from, date_to, days, base in segments
                )
            lines.append(dict(common, name=name, price_unit=charge.interest_amount))
            if policy.late_interest_account_id:
                lines[-1]["account_id"] = policy.late_interest_account_id.id
        if charge.has_fee:
            name = env._("Fixed compensation for recovery costs, %(invoice)s", invoice=charge.source_move_id.name)
            lines.append(dict(common, name=name, price_unit=charge.fee_amount))
            if policy.late_fee_account_id:
                lines[-1]["account_id"] = policy.late_fee_account_id.id
        return lines

    def _log_late_charges(self, charges):
        """A note in the chatter of each overdue invoice: what was charged, on which invoice."""
        bodies = {}
        for source, source_charges in charges.grouped("source_move_id").items():
            values = {
                "amount": formatLang(self.env, sum(source_charges.mapped("amount")), currency_obj=source.currency_id),
                "invoice": ", ".join(source_charges.charge_move_id.mapped("display_name")),
                "days": sum(source_charges.mapped("days")),
            }
            if any(source_charges.mapped("paid_late")):
                text = self.env._(
                    "Late-payment charges of %(amount)s on %(invoice)s for this invoice paid late: %(days)s days of "
                    "interest and, when not charged before, the fixed compensation.",
                    **values,
                )
            elif any(source_charges.mapped("has_fee")):
                text = self.env._(
                    "Late-payment charges of %(amount)s on %(invoice)s: %(days)s days of interest and the fixed "
                    "compensation.",
                    **values,
                )
            else:
                text = self.env._(
                    "Late-payment charges of %(amount)s on %(invoice)s: %(days)s days of interest.", **values
                )
            bodies[source.id] = Markup("<p>%s</p>") % text
        self.env["account.move"].browse(bodies)._message_log_batch(bodies=bodies)

    # === THE CALL SITE IN THE SEND PIPELINE === #

    def _charge_queued_late_fees(self, fresh):
        """Called by ``_queue`` with the messages it just created, before they
        are rendered: for each group of the scheduler whose level charges late
        payment, charge once (``_charge_late_fees``) and attach the charges to
        the group's messages, so that they state them; the charges of
        invoices paid late that no message stated yet go with the customer's
        next message. A fallback message states its parent's charges. Nothing
        is charged when no message of the group can reach the customer, nor
        for manual sends. A charge that cannot be made (a missing account,
        say) is logged on the invoices and the reminder still goes.

        :param fresh: ``[(Outgoing, message)]`` as in ``_queue``
        """
        Message = self.env["account.payment.reminder.message"]
        Charge = self.env["account.payment.reminder.late.charge"]
        groups = {}
        for item, message in fresh:
            if item.parent:
                if item.parent.late_charge_ids:
                    message.late_charge_ids = item.parent.late_charge_ids
                continue
            if item.kind == "reminder":
                groups.setdefault(id(item.group), (item.group, item.trigger, []))[2].append(message)
        if not groups:
            return
        partners = {group.partner.id for group, _trigger, _messages in groups.values()}
        unstated = Charge.search(
            [("paid_late", "=", True), ("reminder_message_ids", "=", False), ("partner_id", "in", list(partners))]
        ).grouped("partner_id")
        today = fields.Date.context_today(self)
        for group, trigger, messages in groups.values():
            if not any(message.state == "queued" for message in messages):
                continue  # no message can reach the customer: nothing is charged that the customer is not told
            charges = unstated.pop(group.partner, Charge)
            if trigger == "cron" and group.level.charge_late_fees:
                try:
                    with self.env.cr.savepoint():
                        _invoices, new_charges = self._charge_late_fees(
                            group.partner, group.moves, group.level, group.policy, today
                        )
                    charges |= new_charges
                except Exception as error:  # noqa: BLE001 - a charge that cannot be made never stops the reminder
                    _logger.warning("Late-payment charges of customer %s failed: %s", group.partner.id, error)
                    reason = self.env._("Late-payment charges could not be made: %(error)s", error=error)
                    note = Markup("<p>%s</p>") % reason
                    group.moves._message_log_batch(bodies=dict.fromkeys(group.moves.ids, note))
            if charges:
                Message.union(*messages).write({"late_charge_ids": [fields.Command.set(charges.ids)]})

    # === INVOICES PAID LATE === #

    def _run_locked(self, send, partner_ids):
        """The scheduler's sending run (under its lock) first charges the
        invoices paid late since the last runs; its messages then state them."""
        if send and not partner_ids:
            # sudo: the scheduler charges across companies, as it sends
            self.sudo()._charge_paid_late_fees(fields.Date.context_today(self))
        return super()._run_locked(send, partner_ids)

    def _charge_paid_late_fees(self, date):
        """Charge, once, the invoices paid after their due date (and days of
        grace) whose policy charges invoices paid late: the interest of the
        days late not charged before and the fixed compensation when it was
        not charged yet, as owed by law although the invoice is paid. Looks
        at the payments reconciled in the last PAID_LATE_LOOKBACK_DAYS days
        and dated from the day the policy's option was turned on. One charge
        invoice per customer; one customer that cannot be charged is logged
        and the others still are. Returns the charges."""
        Charge = self.env["account.payment.reminder.late.charge"]
        policies = self.env["account.payment.reminder.policy"].search(
            [("late_charges_enabled", "=", True), ("late_charge_paid_late", "=", True)]
        )
        if not policies:
            return Charge
        moves = self._get_paid_late_candidates(policies, date)
        batches = defaultdict(lambda: self.env["account.move"])
        history = moves._get_payment_reminder_paid_history()
        for move in moves:
            policy = move._get_payment_reminder_policy()
            paid_on = max((day for day, _amount in history[move.id]), default=None)
            if (
                policy in policies
                and paid_on
                and paid_on >= (policy.late_charge_paid_late_since or date)
                and policy._late_fee_applies_to(move.commercial_partner_id)
            ):
                batches[move.commercial_partner_id, policy] |= move
        charges = Charge
        for (partner, policy), partner_moves in batches.items():
            try:
                with self.env.cr.savepoint():
                    vals_list = self._prepare_late_charge_vals(partner, partner_moves, policy, date, paid_late=True)
                    if vals_list:
                        new_charges = Charge.create(vals_list)
                        self._create_late_charge_invoices(partner, new_charges, policy, date)
                        charges |= new_charges
            except Exception as error:  # noqa: BLE001 - one customer never stops the others, nor the reminders
                _logger.warning("Late-payment charges (paid late) of customer %s failed: %s", partner.id, error)
                reason = Markup("<p>%s</p>") % self.env._(
                    "Late-payment charges could not be made: %(error)s", error=error
                )
                partner_moves._message_log_batch(bodies=dict.fromkeys(partner_moves.ids, reason))
        return charges

    def _get_paid_late_candidates(self, policies, date):
        """The customer invoices of the policies' companies that a payment
        settled recently (reconciled, or registered without a journal entry,
        in the last PAID_LATE_LOOKBACK_DAYS days) after their due date."""
        since = datetime.combine(date - timedelta(days=PAID_LATE_LOOKBACK_DAYS), time.min)
        return self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("company_id", "in", policies.company_id.ids),
                ("payment_state", "in", ("paid", "in_payment")),
                ("invoice_date_due", "<", date),
                ("payment_reminder_exclude", "=", False),
                ("payment_reminder_fee_source_ids", "=", False),
                "|",
                ("line_ids.matched_credit_ids.create_date", ">=", since),
                ("matched_payment_ids.create_date", ">=", since),
            ]
        )
