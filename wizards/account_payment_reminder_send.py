import json
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, html2plaintext

from ..models.account_move import OPEN_INVOICE_DOMAIN
from ..models.account_payment_reminder_level import CHANNELS
from ..models.sms_template import describe_encoding
from ..tools.pipeline import Outgoing


class AccountPaymentReminderSend(models.TransientModel):
    """Send a reminder by hand: from invoices (one or several customers) or a
    customer. Each customer's line follows the scheduler's rule: the most
    urgent level its invoices are due for, listing the due invoices, net of
    credits; invoices held (hold, promise, payment plan) are left out, and a
    customer whose invoices are all held is blocked unless the accountant sends
    anyway, with a reason the chatter keeps. One preview per customer and
    channel, rendered by the scheduler's renderer: what is previewed goes."""

    _name = "account.payment.reminder.send"
    _inherit = ["account.payment.reminder.wizard.access"]
    _description = "Send a Payment Reminder"

    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_send_move_rel",
        string="Invoices",
        default=lambda self: self._default_move_ids(),
        domain=OPEN_INVOICE_DOMAIN,
    )
    policy_id = fields.Many2one("account.payment.reminder.policy", compute="_compute_policy_id")
    level_id = fields.Many2one(
        "account.payment.reminder.level",
        domain="[('policy_id', '=', policy_id)]",
        help="Empty: each customer gets the level its invoices are due for. A level chosen here goes to every "
        "customer; the lines warn when it is above what is due.",
    )
    channels_as_level = fields.Boolean(
        "Channels As The Level Says",
        default=True,
        help="Each customer gets its message on the level's channels, as the scheduler sends it: the first "
        "channel that reaches the customer, or all of them, as the level says. Untick to choose the channels.",
    )
    # compute_sudo=False: the previews are computed as the user, so the wall on the invoices holds before anything
    # is decided or rendered as superuser
    use_email = fields.Boolean("E-mail", compute="_compute_channels", store=True, readonly=False, compute_sudo=False)
    use_whatsapp = fields.Boolean(
        "WhatsApp", compute="_compute_channels", store=True, readonly=False, compute_sudo=False
    )
    use_sms = fields.Boolean("SMS", compute="_compute_channels", store=True, readonly=False, compute_sudo=False)
    use_letter = fields.Boolean("Letter", compute="_compute_channels", store=True, readonly=False, compute_sudo=False)
    line_ids = fields.One2many(
        "account.payment.reminder.send.line",
        "wizard_id",
        "Message Preview",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        compute_sudo=False,
    )
    state = fields.Selection([("edit", "Edit"), ("confirm", "Confirm")], default="edit")
    outside_window_count = fields.Integer(compute="_compute_outside_window")
    outside_window_note = fields.Char(compute="_compute_outside_window")

    @api.model
    def action_open_wizard(self):
        """Open the wizard saved, on the invoices or customer of the context."""
        wizard = self.create({})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "name": self.env._("Send Payment Reminder"),
            "context": {**self.env.context, "dialog_size": "extra-large"},
        }

    def _default_move_ids(self):
        context = self.env.context
        Move = self.env["account.move"]
        if context.get("active_model") == "account.move":
            return Move.browse(context.get("active_ids", [])).filtered_domain(OPEN_INVOICE_DOMAIN)
        if context.get("active_model") == "res.partner" and context.get("active_id"):
            customer = self.env["res.partner"].browse(context["active_id"]).commercial_partner_id
            return Move.search(OPEN_INVOICE_DOMAIN + [("commercial_partner_id", "=", customer.id)])
        return Move

    @api.depends("move_ids")
    def _compute_policy_id(self):
        for wizard in self:
            wizard.policy_id = wizard.move_ids[:1]._get_payment_reminder_policy() if wizard.move_ids else False

    @api.depends("move_ids", "level_id")
    def _compute_channels(self):
        """The channels of the level chosen, else of the most urgent level due."""
        for wizard in self:
            level = wizard.level_id or wizard._get_due_levels()[-1:]
            wizard.use_email = level.use_email or not level
            wizard.use_whatsapp = level.use_whatsapp
            wizard.use_sms = level.use_sms
            wizard.use_letter = level.use_letter

    @api.depends("move_ids", "level_id", "channels_as_level", "use_email", "use_whatsapp", "use_sms", "use_letter")
    def _compute_line_ids(self):
        for wizard in self:
            wizard.line_ids = [fields.Command.clear()] + [
                fields.Command.create(vals) for vals in wizard._prepare_line_vals()
            ]

    @api.depends("line_ids.outside_window", "line_ids.to_send")
    def _compute_outside_window(self):
        for wizard in self:
            count = len(wizard.line_ids.filtered(lambda line: line.to_send and line.outside_window))
            wizard.outside_window_count = count
            if count == 1:
                wizard.outside_window_note = _(
                    "One message would reach its customer outside the hours of the policy (see below)."
                )
            else:
                wizard.outside_window_note = _(
                    "%(count)s messages would reach their customers outside the hours of the policy (see below).",
                    count=count,
                )

    def _get_channels(self):
        return [channel for channel, _label in CHANNELS if self[f"use_{channel}"]]

    def _get_level_channels(self, group, memo=None):
        """The channels the scheduler would use for this customer: the first
        that reaches it, or every one, as its level says (a customer that no
        channel reaches gets the first, blocked with the reasons)."""
        # sudo: reads gateways and addresses as the scheduler does; nothing is written
        Routing = self.env["account.payment.reminder.routing"].sudo()
        skip_reason = group.skip_reason
        planned = Routing._plan_channels(group, memo=memo)
        group.skip_reason = skip_reason  # the plan's own verdict (no gateway, opted out) shows on the line
        return [channel for channel, _recipient, _address, _reason in planned] or group.level._get_channels()[:1]

    def _get_groups(self):
        """Per customer: the group that would go (the scheduler's rule for a
        manual reminder) and the groups of its held invoices."""
        self.ensure_one()
        self._check_payment_reminder_access()
        moves = self.move_ids._origin
        if not moves:
            return []
        # sudo: decides as the scheduler does, over the invoices the user may read (checked above); nothing is written
        Run = self.env["account.payment.reminder.run"].sudo()
        return Run._decide(moves.commercial_partner_id.ids, fields.Datetime.now(), move_ids=moves.ids, manual=True)

    def _get_due_levels(self):
        """The levels the customers' invoices are due for, least urgent first."""
        levels = self.env["account.payment.reminder.level"]
        for group in self._get_groups():
            levels |= group.level
        return levels.sorted(lambda level: (level.sequence, level.id))

    def _get_customer_groups(self):
        """[(group, the level due, notes on the held invoices left out)], one
        per customer: the invoices that would go; or, when all are held, the
        held ones (blocked, for the accountant to send anyway)."""
        by_customer = {}
        for group in self._get_groups():
            by_customer.setdefault(group.partner, []).append(group)
        result = []
        for groups in by_customer.values():
            sendable = [group for group in groups if group.skip_reason in (None, "covered")]
            held = [group for group in groups if group.skip_reason not in (None, "covered")]
            group = sendable[0] if sendable else held[0]
            notes = [self._describe_held(held_group) for held_group in held]
            if not sendable:
                group.skip_detail, notes = "; ".join(notes), []
            due_level = group.level
            if self.level_id:
                group.level = self.level_id.sudo()
            result.append((group, due_level, notes))
        return result

    def _prepare_line_vals(self):
        """One preview per customer and channel."""
        self.ensure_one()
        customer_groups = self._get_customer_groups()
        # as the scheduler: the contacts of every customer read at once, gateways and addresses looked up once
        Routing = self.env["account.payment.reminder.routing"].sudo()  # sudo: reads contacts as the scheduler does
        Routing._set_contacts([group for group, _due, _notes in customer_groups])
        partners = self.env["res.partner"].union(*(group.partner for group, _due, _notes in customer_groups))
        memo = {"recent": self._get_recent_messages(partners, fields.Datetime.now())}
        vals_list = []
        for group, due_level, notes in customer_groups:
            channels = self._get_level_channels(group, memo) if self.channels_as_level else self._get_channels()
            for channel in channels:
                vals = self._prepare_line(group, channel, due_level, memo)
                if notes:
                    vals["held_note"] = "\n".join(notes)
                vals_list.append(vals)
        return vals_list

    def _describe_held(self, group):
        """Why a customer's held invoices wait, in words."""
        reasons = dict(
            self.env["account.payment.reminder.dry.run.line"]._fields["skip_reason"]._description_selection(self.env)
        )
        if group.skip_reason == "on_its_way" and group.money:
            return "; ".join(self.env["account.payment.reminder.run"]._describe_money_on_its_way(group))
        details = []
        for move in group.moves:
            customer = move.commercial_partner_id
            until = max(
                filter(None, [move.payment_reminder_hold_until, customer.payment_reminder_hold_until]), default=None
            )
            if group.skip_reason == "hold" and until:
                why = move.payment_reminder_hold_reason or customer.payment_reminder_hold_reason
                until = format_date(self.env, until)
                if why:
                    details.append(
                        _("%(invoice)s: on hold until %(date)s (%(why)s)", invoice=move.name, date=until, why=why)
                    )
                else:
                    details.append(_("%(invoice)s: on hold until %(date)s", invoice=move.name, date=until))
            else:
                details.append(
                    _("%(invoice)s: %(reason)s", invoice=move.name, reason=reasons.get(group.skip_reason, ""))
                )
        return "; ".join(details)

    def _prepare_line(self, group, channel, due_level, memo=None):
        # sudo: reads gateways and renders templates as the scheduler would; nothing is written
        Routing = self.env["account.payment.reminder.routing"].sudo()
        now = fields.Datetime.now()
        recipient, address, reason = Routing._get_recipient(group, channel, memo=memo)
        blocked = reason
        if group.partner[f"payment_reminder_optout_{channel}"]:
            blocked = _("The customer opted out of %(channel)s reminders.", channel=dict(CHANNELS)[channel])
        elif not blocked and not self.env["account.payment.reminder.gateway"]._get_for_channel(
            group.policy.company_id, channel
        ):
            blocked = _("No active gateway for this channel.")
        held = group.skip_detail or (
            group.skip_reason == "covered" and _("Covered by the customer's credits: nothing is left to pay.")
        )
        vals = {
            "partner_id": group.partner.id,
            "recipient_partner_id": recipient.id,
            "move_ids": [fields.Command.set(group.moves.ids)],
            "level_id": group.level.id,
            "channel": channel,
            "recipient": address or False,
            "blocked_reason": blocked or False,
            "hold_reason": held or False,
            "to_send": not blocked and not held,
            "amount_due": group.amount,
            "amount_credit": group.amount_credit,
            "statement_data": json.dumps(group.statement) if group.statement else False,
            "tz": group.recipient_tz,
        }
        if (group.level.sequence, group.level.id) > (due_level.sequence, due_level.id):
            vals["level_warning"] = _("Above what is due: the invoices are due for '%(level)s'.", level=due_level.name)
        if group.policy:
            is_open, opens_at = group.policy._check_send_window(now, group.recipient_tz)
            if not is_open:
                vals.update(outside_window=True, next_window_at=opens_at)
        if address:
            Message = self.env["account.payment.reminder.message"].sudo()
            preview = Message._new_preview(
                group.moves,
                channel,
                group.level,
                recipient,
                address,
                statement_data=vals["statement_data"],
                tz=group.recipient_tz,
            )._preview()
            if preview.get("failure_reason"):
                vals.update(blocked_reason=preview["failure_reason"], to_send=False)
            vals.update(
                subject=preview.get("subject") or False,
                body_html=preview.get("body_html") or False,
                body=preview.get("body") or False,
                rendered_subject=preview.get("subject") or False,
                rendered_html=preview.get("body_html") or False,
                whatsapp_template=preview.get("template_name") if preview.get("whatsapp_template_id") else False,
                whatsapp_params=self._describe_whatsapp_params(preview),
                # the button opens the site's address followed by this suffix: the link the customer gets
                whatsapp_button=preview.get("whatsapp_button")
                and f"{group.moves[:1].get_base_url()}/{preview['whatsapp_button']}",
            )
        recent = memo["recent"] if memo and "recent" in memo else self._get_recent_messages(group.partner, now)
        vals["recent_warning"] = self._describe_recent(group, channel, address, now, recent) or False
        return vals

    def _get_recent_messages(self, partners, now):
        """The customers' messages of the last day, latest first, read once
        for all the wizard's lines: {customer: messages}."""
        # sudo: reads the history of customers whose invoices the user may read; nothing is written
        messages = (
            self.env["account.payment.reminder.message"]
            .sudo()
            .search(
                [("partner_id", "in", partners.ids), ("queued_at", ">=", now - timedelta(days=1))],
                order="queued_at desc, id desc",
            )
        )
        recent = defaultdict(list)
        for message in messages:
            recent[message.partner_id].append(message)
        return recent

    def _describe_recent(self, group, channel, address, now, recent):
        """What the accountant should know before sending again: the same
        level went to this customer within the hour, or this channel just
        failed for this address (``recent``: see ``_get_recent_messages``)."""
        notes = []
        messages = recent.get(group.partner, [])
        went = next(
            (
                m
                for m in messages
                if m.level_id == group.level
                and m.state in ("queued", "sending", "sent", "delivered", "read")
                and m.queued_at >= now - timedelta(hours=1)
            ),
            None,
        )
        if went:
            notes.append(
                _(
                    "'%(level)s' went to this customer %(minutes)s minutes ago.",
                    level=group.level.name,
                    minutes=max(int((now - went.queued_at).total_seconds() // 60), 0),
                )
            )
        failed = address and next(
            (m for m in messages if m.channel == channel and m.recipient == address and m.state == "failed"), None
        )
        if failed:
            notes.append(
                _(
                    "The last %(channel)s message to %(address)s failed: %(reason)s",
                    channel=dict(CHANNELS)[channel],
                    address=address,
                    reason=failed.failure_reason_display or failed.failure_code or "",
                )
            )
        return " ".join(notes)

    @staticmethod
    def _describe_whatsapp_params(preview):
        params = json.loads(preview.get("whatsapp_params") or "[]")
        return "\n".join(f"{{{{{index}}}}} {value}" for index, value in enumerate(params, start=1)) or False

    # === ACTIONS === #

    def action_send(self):
        self.ensure_one()
        self.move_ids.check_access("write")
        lines = self.line_ids.filtered(lambda line: line.to_send and not line.blocked_reason)
        if not lines:
            raise UserError(_("Nothing to send: every customer is blocked on the chosen channels."))
        missing = lines.filtered(lambda line: line.hold_reason and not (line.override_reason or "").strip())
        if missing:
            raise UserError(
                _(
                    "Say why you send to %(customers)s despite what holds the reminders (%(reason)s).",
                    customers=", ".join(missing.partner_id.mapped("name")),
                    reason=missing[0].hold_reason,
                )
            )
        if self.state == "edit" and lines.filtered("outside_window"):
            self.state = "confirm"
            return {
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": self.id,
                "view_mode": "form",
                "target": "new",
                "name": _("Send outside the customer's hours?"),
            }
        messages = self._send_lines(lines)
        sent = messages.filtered(lambda m: m.state in ("sent", "delivered", "read"))
        failed = messages.filtered(lambda m: m.state == "failed")
        note = _("%(sent)s reminder(s) sent.", sent=len(sent))
        if failed:
            note += " " + _("%(failed)s failed: see the history.", failed=len(failed))
        if messages - sent - failed:
            note += " " + _("%(count)s will be tried again shortly.", count=len(messages - sent - failed))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if failed else "success",
                "message": note,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _send_lines(self, lines):
        """Queue and send the chosen previews through the scheduler's pipeline:
        the same rendering (what was previewed is what goes), the invoices move
        forward to the level each is due for and the level's activity is
        scheduled. Sending the same wizard twice (a double click, a retried
        request) sends once."""
        # sudo: the history is written by code only; the user's right on the invoices is checked by the caller
        Message = self.env["account.payment.reminder.message"].sudo()
        groups = {group.partner: group for group, _due, _notes in self._get_customer_groups()}
        outgoing = []
        for line in lines:
            group = groups.get(line.partner_id.sudo())
            if not group or group.moves != line.move_ids.sudo():
                raise UserError(
                    _(
                        "The invoices of %(customer)s changed meanwhile: open the wizard again.",
                        customer=line.partner_id.name,
                    )
                )
            group.level = line.level_id.sudo()
            group.recipient_tz = line.tz or group.recipient_tz
            edited = {}
            if line.channel == "email" and (line.subject, line.body_html) != (
                line.rendered_subject,
                line.rendered_html,
            ):
                edited = {
                    "subject": line.subject,
                    "body_html": line.body_html,
                    "body": html2plaintext(line.body_html or ""),
                }
            values = {"override_reason": line.override_reason.strip()} if line.hold_reason else {}
            outgoing.append(
                Outgoing(
                    group,
                    line.channel,
                    line.recipient_partner_id.sudo(),
                    line.recipient,
                    trigger="manual",
                    user=self.env.user,
                    key=f"manual:{self.id}:{line.partner_id.id}:{line.channel}:{line.level_id.id}",
                    contents=edited,
                    values=values,
                )
            )
        Message._queue(outgoing)._dispatch()
        return Message.search([("idempotency_key", "in", [item.key for item in outgoing])])


class AccountPaymentReminderSendLine(models.TransientModel):
    _name = "account.payment.reminder.send.line"
    _inherit = ["account.payment.reminder.wizard.access"]
    _description = "Payment Reminder Preview"
    _payment_reminder_checked_fields = ("move_ids", "partner_id", "recipient_partner_id")

    wizard_id = fields.Many2one("account.payment.reminder.send", required=True, ondelete="cascade")
    to_send = fields.Boolean("Send", default=True)
    partner_id = fields.Many2one("res.partner", "Customer")
    behaviour = fields.Char("How the Customer Pays", related="partner_id.payment_reminder_behaviour_summary")
    recipient_partner_id = fields.Many2one("res.partner", "Contact")
    move_ids = fields.Many2many("account.move", "account_payment_reminder_send_line_move_rel", string="Invoices")
    level_id = fields.Many2one("account.payment.reminder.level")
    level_warning = fields.Char()
    recent_warning = fields.Char(
        "Just Happened", help="The same level went to this customer within the hour, or this channel just failed."
    )
    # Text: the list wraps it, so that why a line is held or blocked reads in full
    attention = fields.Text(
        "Why Not / Watch Out", compute="_compute_attention", help="Why the message is held or blocked, or a warning."
    )
    channel = fields.Selection(CHANNELS, required=True)
    recipient = fields.Char()
    tz = fields.Char("Time Zone")
    blocked_reason = fields.Char("Blocked")
    hold_reason = fields.Char("Held", help="What holds these invoices: send anyway only with a reason.")
    held_note = fields.Text("Left Out", help="Invoices of this customer that are held, and are not in this reminder.")
    override_reason = fields.Char("Why Send Anyway", help="Kept in the chatter of the invoices.")
    outside_window = fields.Boolean("Outside Hours")
    next_window_at = fields.Datetime("Next Send Window")
    company_currency_id = fields.Many2one(related="wizard_id.policy_id.currency_id")
    amount_due = fields.Monetary("To Pay", currency_field="company_currency_id")
    amount_credit = fields.Monetary("Credits Netted", currency_field="company_currency_id")
    statement_data = fields.Text()
    subject = fields.Char()
    body_html = fields.Html("E-mail", sanitize_style=True)
    rendered_subject = fields.Char(help="The subject as rendered, to tell the accountant's edits apart.")
    rendered_html = fields.Html(sanitize_style=True, help="The e-mail as rendered.")
    body = fields.Text("Text")
    whatsapp_template = fields.Char("WhatsApp Template")
    whatsapp_params = fields.Text("Template Parameters")
    whatsapp_button = fields.Char("Button Link")
    encoding_info = fields.Char("Segments", compute="_compute_encoding_info")

    def action_open_payment_reminder_card(self):
        """The collection card of the line's customer, before deciding."""
        self.ensure_one()
        return self.env["account.payment.reminder.card"]._action(self.partner_id)

    @api.depends("blocked_reason", "hold_reason", "level_warning", "recent_warning", "outside_window")
    def _compute_attention(self):
        for line in self:
            notes = [line.blocked_reason, line.hold_reason, line.level_warning, line.recent_warning]
            if line.outside_window:
                notes.append(_("Outside the customer's hours."))
            line.attention = " ".join(note for note in notes if note) or False

    @api.depends("body", "channel")
    def _compute_encoding_info(self):
        for line in self:
            line.encoding_info = line.channel == "sms" and line.body and describe_encoding(line.env, line.body)
