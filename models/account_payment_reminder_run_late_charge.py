"""Late-payment charges in the run: one hook that charges a customer's overdue
invoices (``_charge_late_fees``), its preview that writes nothing
(``_preview_late_fees``, for the dry run), and the call site in the send
pipeline (``_charge_queued_late_fees``, called by ``_queue``).

What is charged, per overdue invoice: simple interest at the policy's rate on
what was overdue each day not charged before, and once per invoice, ever, the
fixed compensation (tools/late_charges.py does the arithmetic). The charges of
one customer and run become one customer invoice per currency (usually one),
draft or posted as the policy says; a charge invoice is never charged itself.
"""

import json
import logging
from datetime import timedelta

from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import fields, models
from odoo.tools import format_date, formatLang

from ..tools.late_charges import average_base, first_late_day, fixed_compensation, overdue_segments, simple_interest

_logger = logging.getLogger(__name__)


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
        charges = Charge
        for vals in self._prepare_late_charges(partner, moves, level, policy, date):
            charges |= Charge.new(vals)
        return charges

    def _prepare_late_charges(self, partner, moves, level, policy, date):
        """The values of the charges due on ``date``: per overdue invoice, the
        interest of the days not charged before and, once per invoice, the
        fixed compensation. Empty when the level or the policy does not
        charge, when the customer is not one the policy charges (consumers by
        default), or when the total is under the policy's minimum (the days
        then stay chargeable). Writes nothing."""
        if not (level.charge_late_fees and policy.late_charges_enabled and policy._late_fee_applies_to(partner)):
            return []
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
        for charge in Charge.search([("source_move_id", "in", sources.ids)]):  # waived ones too: final
            source_id = charge.source_move_id.id
            charged_until[source_id] = max(charged_until.get(source_id, charge.date_to), charge.date_to)
            if charge.has_fee:
                has_fee.add(source_id)
        history = sources._get_payment_reminder_paid_history()
        tiers = policy._get_late_fee_tiers()
        vals_list = []
        for move in sources:
            instalments = move._get_payment_reminder_instalments()
            date_from = charged_until.get(move.id) or first_late_day(instalments, policy.late_grace_days)
            if not date_from or date_from >= date:
                continue
            segments = overdue_segments(instalments, history[move.id], date_from, date, policy.late_grace_days)
            if not segments:
                continue
            currency = move.currency_id
            interest = currency.round(simple_interest(segments, policy.late_interest_rate))
            fee = 0.0
            if move.id not in has_fee:
                fee = fixed_compensation(abs(move.amount_total_signed), policy.late_fee_fixed, tiers)
                fee = company.currency_id._convert(fee, currency, company, date)
            if currency.is_zero(interest + fee):
                continue
            vals_list.append(
                {
                    "company_id": company.id,
                    "partner_id": partner.commercial_partner_id.id,
                    "source_move_id": move.id,
                    "policy_id": policy.id,
                    "level_id": level.id,
                    "date": date,
                    "date_from": date_from,
                    "date_to": date,
                    "days": sum(segment.days for segment in segments),
                    "rate": policy.late_interest_rate,
                    "currency_id": currency.id,
                    "base_amount": currency.round(average_base(segments)),
                    "interest_amount": interest,
                    "fee_amount": fee,
                    "has_fee": not currency.is_zero(fee),
                    "amount": interest + fee,
                    "amount_company": currency._convert(interest + fee, company.currency_id, company, date),
                    "segments": json.dumps([[str(s.date_from), str(s.date_to), s.days, s.base] for s in segments]),
                    "idempotency_key": Charge._get_idempotency_key(move.id, date_from),
                }
            )
        total = sum(vals["amount_company"] for vals in vals_list)
        if company.currency_id.compare_amounts(total, policy.late_fee_min_amount or 0.0) < 0:
            return []
        return vals_list

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
            rate = formatLang(env, charge.rate, digits=2)
            name = env._(
                "Late-payment interest on %(invoice)s: %(days)s days at %(rate)s %% a year on %(base)s, "
                "from %(date_from)s to %(date_to)s",
                invoice=charge.source_move_id.name,
                days=charge.days,
                rate=rate,
                base=amount(charge.base_amount),
                date_from=day(charge.date_from + timedelta(days=1)),
                date_to=day(charge.date_to),
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
        for charge in charges:
            values = {
                "amount": formatLang(self.env, charge.amount, currency_obj=charge.currency_id),
                "invoice": charge.charge_move_id.display_name,
                "days": charge.days,
            }
            if charge.has_fee:
                text = self.env._(
                    "Late-payment charges of %(amount)s on %(invoice)s: %(days)s days of interest and the fixed "
                    "compensation.",
                    **values,
                )
            else:
                text = self.env._(
                    "Late-payment charges of %(amount)s on %(invoice)s: %(days)s days of interest.", **values
                )
            bodies[charge.source_move_id.id] = Markup("<p>%s</p>") % text
        self.env["account.move"].browse(bodies)._message_log_batch(bodies=bodies)

    # === THE CALL SITE IN THE SEND PIPELINE === #

    def _charge_queued_late_fees(self, fresh):
        """Called by ``_queue`` with the messages it just created, before they
        are rendered: for each group of the scheduler whose level charges late
        payment, charge once (``_charge_late_fees``) and attach the charges to
        the group's messages, so that they state them. A fallback message
        states its parent's charges. Nothing is charged when no message of the
        group can reach the customer, nor for manual sends. A charge that
        cannot be made (a missing account, say) is logged on the invoices and
        the reminder still goes.

        :param fresh: ``[(Outgoing, message)]`` as in ``_queue``
        """
        Message = self.env["account.payment.reminder.message"]
        groups = {}
        for item, message in fresh:
            if item.parent:
                if item.parent.late_charge_ids:
                    message.late_charge_ids = item.parent.late_charge_ids
                continue
            if item.kind == "reminder" and item.trigger == "cron" and item.group.level.charge_late_fees:
                groups.setdefault(id(item.group), (item.group, []))[1].append(message)
        today = fields.Date.context_today(self)
        for group, messages in groups.values():
            if not any(message.state == "queued" for message in messages):
                continue  # no message can reach the customer: nothing is charged that the customer is not told
            try:
                with self.env.cr.savepoint():
                    _invoices, charges = self._charge_late_fees(
                        group.partner, group.moves, group.level, group.policy, today
                    )
            except Exception as error:  # noqa: BLE001 - a charge that cannot be made never stops the reminder
                _logger.warning("Late-payment charges of customer %s failed: %s", group.partner.id, error)
                reason = self.env._("Late-payment charges could not be made: %(error)s", error=error)
                note = Markup("<p>%s</p>") % reason
                group.moves._message_log_batch(bodies=dict.fromkeys(group.moves.ids, note))
                continue
            if charges:
                Message.union(*messages).write({"late_charge_ids": [fields.Command.set(charges.ids)]})
