"""Routing: which channels, in which order, to which contact at which
address. One home, used by the scheduler's decision, the Send Reminder
wizard, payment plans and fallbacks; writes nothing."""

from odoo import models

from ..tools.terms import joined


class AccountPaymentReminderRouting(models.AbstractModel):
    _name = "account.payment.reminder.routing"
    _description = "Payment Reminder Routing"

    def _get_channels(self, group, memo=None):
        """The level's channels in the order that worked for the customer
        (when its policy learns it, see account_payment_reminder_learner.py),
        the customer's preferred one (chosen on the reminder page) first."""
        Learner = self.env["account.payment.reminder.learner"]
        channels = Learner._order_channels(group, group.level._get_channels(), memo=memo)
        preferred = group.partner.commercial_partner_id.payment_reminder_preferred_channel
        return sorted(channels, key=lambda channel: channel != preferred) if preferred else channels

    def _set_contacts(self, groups):
        """Who may receive each group's message, in order: the invoices'
        contacts, then the customer's invoicing address (its accounts-payable
        contact, also first for the invoices addressed to the company
        itself), then the customer. The groups share one prefetch set, so
        addresses are read once."""
        invoice_address, contact_ids = {}, {}
        for group in groups:
            partner = group.partner
            if partner.id not in invoice_address:
                # a customer without contacts is its own invoicing address (what address_get says, slower)
                invoice_address[partner.id] = (
                    partner.address_get(["invoice"])["invoice"] if partner.child_ids else partner.id
                )
            move_partner_ids = [
                move_partner_id
                for move_partner_id in group.move_partner_ids or group.moves.partner_id.ids
                if move_partner_id != partner.id
            ]
            ids = dict.fromkeys([*move_partner_ids, invoice_address[partner.id], partner.id])
            group.contacts = partner.browse(ids)
            contact_ids.update(ids)
        prefetch_ids = tuple(contact_ids)
        for group in groups:
            group.contacts = group.contacts.with_prefetch(prefetch_ids)

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
        channels = self._get_channels(group, memo=memo) if channels is None else channels
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
            return [(channel, recipient, None, joined(reasons))]
        return plans

    def _get_copy_address(self, group, channel, recipient):
        """The e-mail address that gets the message in copy: the customer's
        invoice address (its accounts-payable contact), when the policy says
        so, the message is an e-mail and goes to another contact; else None."""
        if channel != "email" or not group.policy.invoice_contact_cc:
            return None
        partner = group.partner
        ap_contact = partner.browse(partner.address_get(["invoice"])["invoice"])
        if ap_contact == recipient or ap_contact == partner:
            return None
        address, _reason = ap_contact._payment_reminder_address("email", policy=group.policy)
        return address

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
