"""Effectiveness: were the invoices paid after the message?"""

import logging
from datetime import timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    # === EFFECTIVENESS === #

    @api.model
    def _cron_update_effectiveness(self, horizon_days=60):
        """Record, for the messages of the last weeks, whether and when the
        invoices they covered were paid: within 3, 7 and 14 days, and how many
        days it took. A rate stays empty until it is known."""
        now = fields.Datetime.now()
        self.flush_model()
        self.env["account.move"].flush_model(["payment_state", "payment_reminder_amount_open"])
        self.env.cr.execute(
            """
            SELECT msg.id, msg.sent_at,
                   -- nothing left to pay (a payment without journal entry counts for its amount)
                   BOOL_AND(COALESCE(m.payment_reminder_amount_open, 0) <= 0) AS all_paid,
                   MAX(pay.paid_on) AS paid_on,
                   NOT EXISTS (
                       SELECT 1
                         FROM account_payment_reminder_message_move_rel r2
                         JOIN account_payment_reminder_message earlier ON earlier.id = r2.message_id
                        WHERE r2.move_id IN (SELECT r3.move_id FROM account_payment_reminder_message_move_rel r3
                                              WHERE r3.message_id = msg.id)
                          AND earlier.id < msg.id
                          AND earlier.state IN ('sent', 'delivered', 'read')
                   ) AS first_reminder
              FROM account_payment_reminder_message msg
              JOIN account_payment_reminder_message_move_rel rel ON rel.message_id = msg.id
              JOIN account_move m ON m.id = rel.move_id
              LEFT JOIN LATERAL (
                   -- the last payment: reconciled with the invoice, or registered without a journal entry
                   -- (Odoo 18 on a journal without outstanding account, until the bank statement comes)
                   SELECT GREATEST(
                              (SELECT MAX(apr.max_date)
                                 FROM account_move_line line
                                 JOIN account_partial_reconcile apr ON apr.debit_move_id = line.id
                                WHERE line.move_id = m.id AND line.display_type = 'payment_term'),
                              (SELECT MAX(p.date)
                                 FROM account_move__account_payment mp
                                 JOIN account_payment p ON p.id = mp.payment_id
                                WHERE mp.invoice_id = m.id AND p.move_id IS NULL
                                  AND p.state IN ('in_process', 'paid'))
                          ) AS paid_on
                   ) pay ON TRUE
             WHERE msg.state IN ('sent', 'delivered', 'read')
               AND msg.sent_at > %(horizon)s
               AND msg.paid_14d_rate IS NULL
             GROUP BY msg.id, msg.sent_at
            """,
            {"horizon": now - timedelta(days=horizon_days)},
        )
        updates = []
        for message_id, sent_at, all_paid, paid_on, first_reminder in self.env.cr.fetchall():
            age = (now - sent_at).days
            days = max(0, (paid_on - sent_at.date()).days) if all_paid and paid_on else None
            rates = [
                (100.0 if days <= window else 0.0) if days is not None else (0.0 if age > window else None)
                for window in (3, 7, 14)
            ]
            updates.append((first_reminder, paid_on if days is not None else None, days, *rates, message_id))
        if updates:
            # SQL, not write(): an unknown rate must stay NULL, which the ORM would read back as 0.0
            self.env.cr.executemany(
                """
                UPDATE account_payment_reminder_message
                   SET is_first_reminder = %s, paid_date = %s, days_to_pay = %s,
                       paid_3d_rate = %s, paid_7d_rate = %s, paid_14d_rate = %s
                 WHERE id = %s
                """,
                updates,
            )
            self.invalidate_model(
                ["is_first_reminder", "paid_date", "days_to_pay", "paid_3d_rate", "paid_7d_rate", "paid_14d_rate"]
            )
