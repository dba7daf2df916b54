"""The send pipeline: queue, mark, render, log; every kind of message goes
through it."""

import logging
from collections import defaultdict

from psycopg2 import IntegrityError

from odoo import _, fields, models

from ..tools.schedule import to_local
from .account_payment_reminder_run import ReminderGroup

_logger = logging.getLogger(__name__)


class AccountPaymentReminderRun(models.AbstractModel):
    _inherit = "account.payment.reminder.run"

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
