from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from ..models.account_move import OPEN_INVOICE_DOMAIN
from ..models.account_payment_reminder_level import CHANNELS
from ..models.account_payment_reminder_run import ReminderGroup
from ..models.account_payment_reminder_run_queue import Outgoing
from ..models.sms_template import describe_encoding


class AccountPaymentReminderSend(models.TransientModel):
    """Send a reminder by hand: from invoices (one or several customers) or a
    customer, on the channels chosen, with a preview per customer and channel."""

    _name = "account.payment.reminder.send"
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
        compute="_compute_level_id",
        store=True,
        readonly=False,
        domain="[('policy_id', '=', policy_id)]",
    )
    use_email = fields.Boolean("E-mail", compute="_compute_channels", store=True, readonly=False)
    use_whatsapp = fields.Boolean("WhatsApp", compute="_compute_channels", store=True, readonly=False)
    use_sms = fields.Boolean("SMS", compute="_compute_channels", store=True, readonly=False)
    line_ids = fields.One2many(
        "account.payment.reminder.send.line",
        "wizard_id",
        "Previews",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    state = fields.Selection([("edit", "Edit"), ("confirm", "Confirm")], default="edit")
    outside_window_count = fields.Integer(compute="_compute_outside_window_count")

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

    @api.depends("policy_id")
    def _compute_level_id(self):
        """The level the invoices are due for now, else the one they reached."""
        for wizard in self:
            moves = wizard.move_ids
            levels = (moves.payment_reminder_next_level_id | moves.payment_reminder_level_id).filtered_domain(
                [("policy_id", "=", wizard.policy_id.id)]
            )
            wizard.level_id = levels.sorted("sequence")[-1:] or wizard.policy_id.level_ids.sorted("sequence")[:1]

    @api.depends("level_id")
    def _compute_channels(self):
        for wizard in self:
            wizard.use_email = wizard.level_id.use_email or not wizard.level_id
            wizard.use_whatsapp = wizard.level_id.use_whatsapp
            wizard.use_sms = wizard.level_id.use_sms

    @api.depends("move_ids", "level_id", "use_email", "use_whatsapp", "use_sms")
    def _compute_line_ids(self):
        for wizard in self:
            wizard.line_ids = [fields.Command.clear()] + [
                fields.Command.create(vals) for vals in wizard._prepare_line_vals()
            ]

    @api.depends("line_ids.outside_window", "line_ids.to_send")
    def _compute_outside_window_count(self):
        for wizard in self:
            wizard.outside_window_count = len(
                wizard.line_ids.filtered(lambda line: line.to_send and line.outside_window)
            )

    def _get_channels(self):
        return [channel for channel, _label in CHANNELS if self[f"use_{channel}"]]

    def _prepare_line_vals(self):
        """One preview per customer and channel."""
        self.ensure_one()
        # sudo: reads gateways and renders templates as the scheduler would; nothing is written
        Run = self.env["account.payment.reminder.run"].sudo()
        Message = self.env["account.payment.reminder.message"].sudo()
        now = fields.Datetime.now()
        vals_list = []
        if not self.level_id:
            return vals_list
        for customer, moves in self.move_ids.grouped("commercial_partner_id").items():
            policy = moves[:1]._get_payment_reminder_policy() or self.policy_id
            group = ReminderGroup(
                policy=policy.sudo(),
                level=self.level_id.sudo(),
                partner=customer.sudo(),
                moves=moves.sudo(),
                amount=sum(moves.mapped("amount_residual_signed")),
            )
            for channel in self._get_channels():
                vals_list.append(self._prepare_line(Run, Message, group, channel, now))
        return vals_list

    def _prepare_line(self, Run, Message, group, channel, now):
        recipient, address, reason = Run._get_recipient(group, channel)
        blocked = reason
        if not blocked and not self.env["account.payment.reminder.gateway"]._get_for_channel(
            group.policy.company_id, channel
        ):
            blocked = _("No active gateway for this channel.")
        vals = {
            "partner_id": group.partner.id,
            "recipient_partner_id": recipient.id,
            "move_ids": [fields.Command.set(group.moves.ids)],
            "channel": channel,
            "recipient": address or False,
            "blocked_reason": blocked or False,
            "to_send": not blocked,
        }
        if group.policy:
            is_open, opens_at = group.policy._check_send_window(now, group.recipient_tz)
            if not is_open:
                vals.update(outside_window=True, next_window_at=opens_at)
        if address:
            preview = Message._new_preview(group.moves, channel, self.level_id, recipient, address)._preview()
            if preview.get("failure_reason"):
                vals.update(blocked_reason=preview["failure_reason"], to_send=False)
            vals.update(
                subject=preview.get("subject") or False,
                body_html=preview.get("body_html") or False,
                body=preview.get("body") or False,
                rendered_subject=preview.get("subject") or False,
                rendered_html=preview.get("body_html") or False,
            )
        return vals

    # === ACTIONS === #

    def action_send(self):
        self.ensure_one()
        self.move_ids.check_access("write")
        lines = self.line_ids.filtered(lambda line: line.to_send and not line.blocked_reason)
        if not lines:
            raise UserError(_("Nothing to send: every customer is blocked on the chosen channels."))
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
        to the level and its activity is scheduled. Sending the same wizard
        twice (a double click, a retried request) sends once."""
        # sudo: the history is written by code only; the user's right on the invoices is checked by the caller
        Run = self.env["account.payment.reminder.run"].sudo()
        level = self.level_id.sudo()
        outgoing = []
        for line in lines:
            moves = line.move_ids.sudo()
            policy = moves[:1]._get_payment_reminder_policy() or self.policy_id.sudo()
            group = ReminderGroup(
                policy=policy,
                level=level,
                partner=line.partner_id.sudo(),
                moves=moves,
                amount=sum(moves.mapped("amount_residual_signed")),
                recipient_tz=line.recipient_partner_id.tz or line.partner_id.tz or policy._get_fallback_tz(),
            )
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
            outgoing.append(
                Outgoing(
                    group,
                    line.channel,
                    line.recipient_partner_id.sudo(),
                    line.recipient,
                    trigger="manual",
                    user=self.env.user,
                    key=f"manual:{self.id}:{line.partner_id.id}:{line.channel}:{level.id}",
                    contents=edited,
                )
            )
        messages = Run._queue(outgoing)
        messages._dispatch()
        return Run.env["account.payment.reminder.message"].search(
            [("idempotency_key", "in", [item.key for item in outgoing])]
        )


class AccountPaymentReminderSendLine(models.TransientModel):
    _name = "account.payment.reminder.send.line"
    _description = "Payment Reminder Preview"

    wizard_id = fields.Many2one("account.payment.reminder.send", required=True, ondelete="cascade")
    to_send = fields.Boolean("Send", default=True)
    partner_id = fields.Many2one("res.partner", "Customer")
    recipient_partner_id = fields.Many2one("res.partner", "Contact")
    move_ids = fields.Many2many("account.move", "account_payment_reminder_send_line_move_rel", string="Invoices")
    channel = fields.Selection(CHANNELS, required=True)
    recipient = fields.Char()
    blocked_reason = fields.Char("Blocked")
    outside_window = fields.Boolean("Outside Hours")
    next_window_at = fields.Datetime("Next Send Window")
    subject = fields.Char()
    body_html = fields.Html("E-mail", sanitize_style=True)
    rendered_subject = fields.Char(help="The subject as rendered, to tell the accountant's edits apart.")
    rendered_html = fields.Html(sanitize_style=True, help="The e-mail as rendered.")
    body = fields.Text("Text")
    encoding_info = fields.Char("Segments", compute="_compute_encoding_info")

    @api.depends("body", "channel")
    def _compute_encoding_info(self):
        for line in self:
            line.encoding_info = line.channel == "sms" and line.body and describe_encoding(line.env, line.body)
