"""Stage 1 of a message's life, queueing. Every message, whoever asks for it
(the scheduler's decision, a payment plan, a fallback after a failure, an
accountant in the wizard), arrives here as an ``Outgoing`` and goes through
``_queue``:

prepare -> create the row under its idempotency key -> move the invoices to the
level (and schedule its activity) -> render (stage 2,
account_payment_reminder_message_render.py) -> record the failures in the
chatter.

The caller then dispatches what is queued (stage 3, ``message._dispatch()``,
account_payment_reminder_message_dispatch.py); receipts (stage 4,
account_payment_reminder_message_inbound.py) and fallbacks (stage 5,
account_payment_reminder_message_fallback.py) follow.
"""

import hashlib
import json
import logging

from psycopg2 import IntegrityError

from odoo import _, api, fields, models
from odoo.tools.translate import LazyTranslate

from ..tools.pipeline import Outgoing

_lt = LazyTranslate(__name__)

_logger = logging.getLogger(__name__)


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    # === THE PIPELINE === #

    @api.model
    def _queue(self, outgoing):
        """Queue the messages: create them (once per idempotency key), move
        their invoices to the level, render them, and log the failures in the
        chatter. Returns the messages waiting to be dispatched; a message that
        failed (no address, broken template) is final and recorded."""
        if not outgoing:
            return self.browse()
        reached = self._get_reached_levels([item for item in outgoing if item.kind == "reminder"])
        vals_list = []
        for item in outgoing:
            vals = self._prepare_message_vals(item)
            if item.kind == "reminder":
                vals["reached_levels"] = json.dumps(
                    {
                        str(move_id): [level_id, ref_date and str(ref_date)]
                        for move_id, (level_id, ref_date) in reached[id(item.group)].items()
                        if level_id
                    }
                )
            vals_list.append(vals)
        created = self._create_messages(vals_list)
        fresh = [(item, message) for item, message in zip(outgoing, created, strict=True) if message]
        messages = self.browse([message.id for _item, message in fresh])
        if not messages:
            return messages
        # a message that fails before leaving (no address) reaches nothing: only what goes moves the ladder
        self._mark_invoices(
            [item for item, message in fresh if item.kind == "reminder" and message.state != "failed"], reached
        )
        # late-payment charges of the levels that charge them, before rendering: the messages state them
        # (account_payment_reminder_run_late_charge.py; issue 10 moves this call with the decision)
        self.env["account.payment.reminder.run"]._charge_queued_late_fees(fresh)
        self._ensure_access_tokens(messages.move_ids)
        broken = messages.filtered(lambda m: m.state == "queued")._render_contents()
        for item, message in fresh:
            if item.contents and message.state == "queued":
                message.write(item.contents)
        failed = messages.filtered(lambda m: m.state == "failed")
        failed._log_in_chatter()
        return (messages - failed) | broken._queue_fallbacks()

    @api.model
    def _queue_first_reachable(self, group, channels, require_address=False, **outgoing):
        """Queue one message for ``group`` on the first of ``channels`` that
        can reach the customer (routing's 'fallback' strategy): the first one,
        failed with the reasons, when none can, unless ``require_address``.
        ``outgoing`` are the ``Outgoing`` fields (kind, trigger, key...); a
        ``{channel}`` in the key is the channel chosen. Returns the queued
        message, if any."""
        planned = self.env["account.payment.reminder.routing"]._plan_channels(
            group, channels=channels, strategy="fallback"
        )
        if not planned or (require_address and not planned[0][2]):
            return self.browse()
        if outgoing.get("key"):
            outgoing["key"] = outgoing["key"].format(channel=planned[0][0])
        return self._queue([Outgoing(group, *planned[0], **outgoing)])

    def _prepare_message_vals(self, item):
        group = item.group
        company = group.policy.company_id or group.moves.company_id[:1]
        gateway = self.env["account.payment.reminder.gateway"]._get_for_channel(company, item.channel)
        vals = {
            "company_id": company.id,
            "partner_id": group.partner.id,
            "recipient_partner_id": item.recipient.id,
            "move_ids": [fields.Command.set(group.moves.ids)],
            "policy_id": group.policy.id,
            "level_id": group.level.id,
            "kind": item.kind,
            "channel": item.channel,
            "gateway_id": gateway.id,
            "recipient": item.address or False,
            "email_cc": item.address
            and self.env["account.payment.reminder.routing"]._get_copy_address(group, item.channel, item.recipient)
            or False,
            "tz": group.recipient_tz,
            "amount_due": group.amount,
            "amount_credit": group.amount_credit,
            "statement_data": json.dumps(group.statement) if group.statement else False,
            "trigger": item.trigger,
            "parent_id": item.parent and item.parent.id,
            "plan_id": item.plan and item.plan.id,
            "plan_line_id": item.plan_line and item.plan_line.id,
            "user_id": item.user and item.user.id,
            "idempotency_key": item.key or self._get_idempotency_key(item),
            **self._prepare_timing_vals(item),
            **item.values,
        }
        if not item.address:
            vals.update(
                state="failed",
                failed_at=fields.Datetime.now(),
                failure_code="no_recipient",
                **self._prepare_failure_reason_vals(item.reason or _lt("No address to send to.")),
            )
        return vals

    def _prepare_timing_vals(self, item):
        """The learnt hour and channel of a scheduler's message (see
        account_payment_reminder_learner.py): it waits for the customer's
        hour (``next_attempt_at``), and records its A/B half and why."""
        group = item.group
        if not group.arm or item.parent:
            return {}
        vals = {"timing_arm": group.arm}
        terms = [terms for terms in (group.hour_terms, group.channel_terms) if terms]
        if terms:
            vals["timing_reason_terms"] = terms
        if group.send_at:
            vals.update(next_attempt_at=group.send_at, timing_learnt=True)
        return vals

    def _get_idempotency_key(self, item):
        """What makes a message unique: the same level and channel for the
        same invoices, each reaching the same level at the same due date, are
        never queued twice by the scheduler. Hashed: a customer may have
        hundreds of invoices, and the unique index takes a few kilobytes."""
        group = item.group
        covered = ",".join(
            f"{move_id}:{group.new_levels.get(move_id, 0)}:{group.ref_dates.get(move_id)}"
            for move_id in sorted(group.moves.ids)
        )
        digest = hashlib.sha256(covered.encode()).hexdigest()[:32]
        return f"{item.trigger}:{group.level.id}:{item.channel}:{digest}"

    def _create_messages(self, vals_list):
        """Create the rows; a row whose idempotency key exists already (another
        run got there first) is skipped. Returns a list aligned on vals_list,
        with None for the skipped ones."""
        taken = set(
            self.search([("idempotency_key", "in", [vals["idempotency_key"] for vals in vals_list])]).mapped(
                "idempotency_key"
            )
        )
        fresh, seen = [], set()
        for vals in vals_list:
            if vals["idempotency_key"] not in taken and vals["idempotency_key"] not in seen:
                fresh.append(vals)
                seen.add(vals["idempotency_key"])
        try:
            with self.env.cr.savepoint(flush=True):
                created = {message.idempotency_key: message for message in self.create(fresh)}
            return [created.pop(vals["idempotency_key"], None) for vals in vals_list]
        except IntegrityError:
            _logger.info("Payment reminders: another run queued some of these; creating one by one")
        result = []
        for vals in vals_list:
            try:
                with self.env.cr.savepoint(flush=True):
                    result.append(self.create(vals) if vals in fresh else None)
            except IntegrityError:
                _logger.info("Payment reminder %s was queued by another run", vals["idempotency_key"])
                result.append(None)
        return result

    def _get_reached_levels(self, outgoing):
        """{id(group): {move id: (level id, reference date)}}: what each
        invoice of a reminder reaches when the message goes; (None, None) for
        an invoice only listed, whose level stays. The scheduler's decision is
        final; a manual reminder only moves an invoice forward on its own
        policy's ladder; a fallback reaches what the message it replaces would
        have reached."""
        Level = self.env["account.payment.reminder.level"]
        result = {}
        for item in outgoing:
            group = item.group
            if id(group) in result:
                continue
            reached = result[id(group)] = dict.fromkeys(group.moves.ids, (None, None))
            if item.parent:
                for move_id, (level_id, ref_date) in json.loads(item.parent.reached_levels or "{}").items():
                    reached[int(move_id)] = (level_id, ref_date and fields.Date.to_date(ref_date))
            elif item.trigger == "cron":
                # each invoice records the level it reached (the others listed stay where they are)
                for move_id, level_id in group.new_levels.items():
                    reached[move_id] = (level_id, group.ref_dates.get(move_id))
            else:
                for move in group.moves:
                    # by hand: forward only, to the level the invoice itself is due for (never an overdue level
                    # for an invoice not yet due, whatever level the accountant chose for the message)
                    target = Level.browse(group.new_levels.get(move.id)) if group.new_levels else group.level
                    ref_date = move._get_payment_reminder_due_date()
                    current = move.payment_reminder_level_id
                    if target.policy_id != move._get_payment_reminder_policy() or (
                        current
                        and ref_date == move.payment_reminder_ref_date
                        and (current.sequence, current.id) >= (target.sequence, target.id)
                    ):
                        continue
                    reached[move.id] = (target.id, ref_date)
        return result

    def _mark_invoices(self, outgoing, reached):
        """Record on each invoice the level its message reaches (see
        ``_get_reached_levels``) and the day, and schedule the level's
        activity once per group (not again for a fallback). A message that
        fails for good without a replacement gives the invoices back what
        their history says (account.move._payment_reminder_sync_levels)."""
        now = fields.Datetime.now()
        groups = {id(item.group): item for item in outgoing}
        Move = self.env["account.move"]
        fnames = [
            "payment_reminder_level_id",
            "payment_reminder_ref_date",
            "payment_reminder_last_date",
            "payment_reminder_level_date",
        ]
        Move.flush_model(fnames)
        marks = {}
        for group_id in groups:
            for move_id, mark in reached[group_id].items():
                if mark[0] or move_id not in marks:
                    marks[move_id] = mark
        if not marks:
            return
        # SQL: bookkeeping columns of posted invoices; account.move.write() would re-check the balance and
        # resync the invoice lines of every invoice for nothing. One statement: each row is rewritten once,
        # with the portal token the pay links need (_ensure_access_tokens then finds it there)
        self.env.cr.execute(
            """
            UPDATE account_move m
               SET payment_reminder_last_date = %(now)s,
                   access_token = COALESCE(m.access_token, gen_random_uuid()::text),
                   payment_reminder_level_id = COALESCE(r.level_id, m.payment_reminder_level_id),
                   payment_reminder_ref_date = CASE WHEN r.level_id IS NULL THEN m.payment_reminder_ref_date
                                                    ELSE r.ref_date END,
                   payment_reminder_level_date = CASE
                       WHEN r.level_id IS NULL OR (r.level_id = m.payment_reminder_level_id
                                                   AND r.ref_date = m.payment_reminder_ref_date)
                       THEN m.payment_reminder_level_date
                       ELSE %(today)s END
              FROM unnest(%(ids)s::int[], %(levels)s::int[], %(dates)s::date[]) AS r(id, level_id, ref_date)
             WHERE m.id = r.id
            """,
            {
                "now": now,
                "today": now.date(),
                "ids": list(marks),
                "levels": [level_id for level_id, _ref_date in marks.values()],
                "dates": [ref_date for _level_id, ref_date in marks.values()],
            },
        )
        Move.invalidate_model([*fnames, "access_token"])
        self._schedule_activities([item.group for item in groups.values() if not item.parent])

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

    def _schedule_activities(self, groups):
        """The activity of each group's level (the phone call of a final
        notice...) on the group's first invoice, created at once: Odoo then
        subscribes each responsible user to all their invoices in one go.
        The values are those ``activity_schedule`` gives; the responsible
        users are not e-mailed one activity at a time."""
        if self.env.context.get("mail_activity_automation_skip"):
            return
        vals_list = []
        for group in groups:
            level = group.level
            if not level.activity_type_id:
                continue
            move = group.moves[:1].with_prefetch(group.moves._prefetch_ids)  # a slice would read it alone
            user = level.activity_user_id or group.policy._get_responsible_user(salesperson=move.invoice_user_id)
            vals_list.append(
                {
                    "activity_type_id": level.activity_type_id.id,
                    "summary": _("%(level)s: %(customer)s", level=level.name, customer=group.partner.name),
                    "note": _("%(count)s invoice(s) reached this level.", count=len(group.moves)),
                    "automated": True,
                    "date_deadline": fields.Date.context_today(move),
                    "res_model_id": self.env["ir.model"]._get_id(move._name),
                    "res_id": move.id,
                    "user_id": user.id,
                }
            )
        # each activity names its invoice: read the names at once, not one invoice at a time
        self.env["account.move"].browse([vals["res_id"] for vals in vals_list]).mapped("display_name")
        # quick update: no "you have been assigned" e-mail per activity (a run can give the credit controller
        # hundreds); the activities wait in their Activities menu and on the Credit Control overview
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(vals_list)
