"""The right hour and the right channel, learnt: the one home where the
decision (account_payment_reminder_run_decision.py) and the routing
(account_payment_reminder_routing.py) ask what a customer's history says.
The rules are tools/learner.py's, over the rows of one query per batch;
this file reads the history and says why, in the reader's language (terms
kept untranslated on the message, see tools/terms.py). Writes nothing."""

from datetime import timedelta

from odoo import api, models
from odoo.tools.translate import LazyTranslate

from ..tools.learner import (
    ACTED_WITHIN,
    HISTORY,
    MIN_SIGNALS,
    Learnt,
    ab_arm,
    channel_stats,
    learn,
    learnt_send_time,
    order_channels,
)
from ..tools.schedule import hour_of, to_local
from ..tools.terms import to_terms

_lt = LazyTranslate(__name__)

CHANNEL_NAMES = {"whatsapp": _lt("WhatsApp"), "sms": _lt("SMS"), "email": _lt("e-mail")}
HORIZON_DAYS = 365
"""Messages older than this say nothing of the customer's habits today."""
PAID_SOON = timedelta(days=2)
"""An online payment of a message's invoices this soon after it is a sign it was seen."""


def format_hour(hour):
    """19.5 -> "19:30"."""
    minutes = round(hour * 60) % (24 * 60) if hour < 24 else 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class AccountPaymentReminderLearner(models.AbstractModel):
    _name = "account.payment.reminder.learner"
    _description = "Payment Reminder Timing Learner"

    def _get_learning_rows_query(self):
        """The last messages that went to each customer of a batch (per
        company), newest first, each with the moment of its first signal:
        its read receipt, the first click on its tracked link, the first
        response on the page it led to or reply to it, an online payment of
        its invoices soon after."""
        return """
            WITH recent AS (
                SELECT id, company_id, partner_id, channel, sent_at, read_at, tz, payment_link
                  FROM (
                        SELECT msg.id, msg.company_id, msg.partner_id, msg.channel, msg.sent_at, msg.read_at,
                               msg.tz, msg.payment_link,
                               ROW_NUMBER() OVER (PARTITION BY msg.company_id, msg.partner_id
                                                  ORDER BY msg.sent_at DESC, msg.id DESC) AS rank
                          FROM account_payment_reminder_message msg
                         WHERE msg.partner_id = ANY(%(partner_ids)s)
                           AND msg.company_id = ANY(%(company_ids)s)
                           AND msg.state IN ('sent', 'delivered', 'read')
                           AND msg.sent_at > %(horizon)s
                       ) ranked
                 WHERE rank <= %(history)s
            )
            SELECT r.company_id, r.partner_id, r.channel, r.sent_at,
                   LEAST(r.read_at, click.at, answer.at, paid.at) AS seen_at, r.tz,
                   r.read_at IS NOT NULL AND r.read_at <= COALESCE(LEAST(click.at, answer.at, paid.at), r.read_at)
                       AS read
              FROM recent r
              LEFT JOIN LATERAL (
                   -- the short link of an SMS or WhatsApp message: .../r/<code>
                   SELECT MIN(c.create_date) AS at
                     FROM link_tracker_code code
                     JOIN link_tracker_click c ON c.link_id = code.link_id
                    WHERE r.payment_link IS NOT NULL
                      AND code.code = SUBSTRING(r.payment_link FROM '/r/([^/?#]+)$')
                      AND c.create_date >= r.sent_at AND c.create_date <= r.sent_at + %(acted_within)s
                   ) click ON TRUE
              LEFT JOIN LATERAL (
                   -- a promise, a dispute, a reply... that the message led to
                   SELECT MIN(resp.create_date) AS at
                     FROM account_payment_reminder_response resp
                    WHERE resp.message_id = r.id AND resp.create_date >= r.sent_at
                   ) answer ON TRUE
              LEFT JOIN LATERAL (
                   SELECT MIN(tx.create_date) AS at
                     FROM account_payment_reminder_message_move_rel mr
                     JOIN account_invoice_transaction_rel tr ON tr.invoice_id = mr.move_id
                     JOIN payment_transaction tx ON tx.id = tr.transaction_id
                    WHERE mr.message_id = r.id
                      AND tx.state IN ('pending', 'authorized', 'done')
                      AND tx.create_date >= r.sent_at AND tx.create_date <= r.sent_at + %(paid_soon)s
                   ) paid ON TRUE
             ORDER BY r.company_id, r.partner_id, r.sent_at DESC, r.id DESC
        """

    @api.model
    def _learn(self, company_partner_pairs, now):
        """{(company id, partner id): Learnt} of these customers: one query."""
        if not company_partner_pairs:
            return {}
        for model in ("account.payment.reminder.message", "account.payment.reminder.response", "link.tracker.click"):
            self.env[model].flush_model()
        self.env.cr.execute(
            self._get_learning_rows_query(),
            {
                "partner_ids": list({partner_id for _company_id, partner_id in company_partner_pairs}),
                "company_ids": list({company_id for company_id, _partner_id in company_partner_pairs}),
                "horizon": now - timedelta(days=HORIZON_DAYS),
                "history": HISTORY,
                "acted_within": ACTED_WITHIN,
                "paid_soon": PAID_SOON,
            },
        )
        return learn(self.env.cr.fetchall())

    @api.model
    def _learn_groups(self, groups, now):
        """Give each group whose policy learns its arm and what its customer's
        history says (``group.learnt``; None on the A/B test's default half)."""
        learning = [group for group in groups if group.policy.learn_timing]
        if not learning:
            return
        pairs = set()
        for group in learning:
            group.arm = ab_arm(group.policy.id, group.partner.id) if group.policy.learn_ab_test else "learnt"
            if group.arm == "learnt":
                pairs.add((group.policy.company_id.id, group.partner.id))
        learnt = self._learn(pairs, now)
        for group in learning:
            if group.arm == "learnt":
                group.learnt = learnt.get((group.policy.company_id.id, group.partner.id)) or Learnt(None, [])

    # === WHAT THE DECISION AND THE ROUTING ASK === #

    def _order_channels(self, group, channels, memo=None):
        """The channels in the order that worked for the group's customer (see
        ``tools.learner.learn_channels``), and why, on the group; as they are
        when nothing was learnt.

        :param memo: a dict the caller keeps across the groups of one
            decision: customers with the same figures share the answer
        """
        if not group.learnt or len(channels) < 2:
            return channels
        memo = {} if memo is None else memo
        stats = channel_stats(group.learnt.signals, channels)
        key = ("channels", stats)
        if key not in memo:
            choice = order_channels(stats)
            memo[key] = choice and (choice.order, to_terms(self._describe_channels(choice)))
        if not memo[key]:
            return channels
        order, group.channel_terms = memo[key]
        return order

    def _set_send_time(self, group, now, memo=None):
        """When the group's message goes (``group.send_at``, None: at once)
        and why (``group.hour_terms``): at the customer's learnt hour, clamped
        into the policy's send window, in the customer's time zone.

        :param memo: a dict the caller keeps across the groups of one
            decision: customers of one zone and hour share the answer
        """
        if not group.arm:
            return
        memo = {} if memo is None else memo
        policy, hour = group.policy, group.learnt and group.learnt.hour
        if group.arm == "default":
            key = ("timing", "default")
        elif not hour:
            signals = group.learnt.signals
            key = ("timing", "no_hour", len(signals), sum(1 for signal in signals if signal.seen_at))
        else:
            key = ("timing", policy.id, group.recipient_tz, hour)
        if key not in memo:
            memo[key] = self._get_send_time(group, now)
        group.send_at, group.hour_terms = memo[key]

    def _get_send_time(self, group, now):
        """(when the group's message goes, None: at once; why, as terms)."""
        if group.arm == "default":
            return None, to_terms(
                _lt("the policy's hours and channels: A/B test, this customer is in the half on defaults")
            )
        hour = group.learnt.hour
        if not hour:
            return None, to_terms(self._describe_no_hour(group.learnt.signals))
        policy = group.policy
        send_at = learnt_send_time(
            now, group.recipient_tz, hour.hour, policy.window_start, policy.window_end, policy._get_window_weekdays()
        )
        if not send_at:
            return None, None
        return (send_at if send_at > now else None), to_terms(self._describe_hour(hour, send_at, group.recipient_tz))

    # === WHY, IN THE READER'S LANGUAGE === #

    def _describe_hour(self, hour, send_at, tz):
        at = format_hour(hour_of(to_local(send_at, tz)))
        args = {
            "time": at,
            "hits": hour.hits,
            "count": hour.out_of,
            "start": format_hour(hour.span_from),
            "end": format_hour(hour.span_to),
        }
        if hour.all_read:
            return _lt(
                "sent at %(time)s: read %(hits)s of the last %(count)s messages between %(start)s and %(end)s", **args
            )
        return _lt(
            "sent at %(time)s: read or answered %(hits)s of the last %(count)s messages between %(start)s and %(end)s",
            **args,
        )

    def _describe_no_hour(self, signals):
        if not signals:
            return _lt("the policy's hours: no earlier message to learn from")
        seen = sum(1 for signal in signals if signal.seen_at)
        if seen < MIN_SIGNALS:
            return _lt(
                "the policy's hours: %(seen)s of the last %(count)s messages seen, %(needed)s needed to learn",
                seen=seen,
                count=len(signals),
                needed=MIN_SIGNALS,
            )
        return _lt("the policy's hours: the last messages were seen at no one time of the day")

    def _describe_channels(self, choice):
        first = choice.stats[choice.order[0]]
        if first.fast:
            parts = [
                _lt(
                    "%(channel)s first: read within the hour %(fast)s times out of %(sent)s",
                    channel=CHANNEL_NAMES[first.channel],
                    fast=first.fast,
                    sent=first.sent,
                )
            ]
        else:
            parts = [
                _lt(
                    "%(channel)s first: read or answered %(seen)s times out of %(sent)s",
                    channel=CHANNEL_NAMES[first.channel],
                    seen=first.seen,
                    sent=first.sent,
                )
            ]
        for channel in choice.order[1:]:
            stat = choice.stats[channel]
            if stat.sent and not stat.seen:
                parts.append(_lt("%(channel)s never opened", channel=CHANNEL_NAMES[channel]))
        return _join(parts)


def _join(parts):
    """Lazy parts joined with "; " (each read in the reader's language)."""
    if len(parts) == 1:
        return parts[0]
    return _lt("%(first)s; %(others)s", first=parts[0], others=_join(parts[1:]))
