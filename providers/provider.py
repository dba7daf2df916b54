"""The provider contract.

A provider is an AbstractModel named ``account.payment.reminder.provider.<code>``
where ``<code>`` is the gateway's ``provider`` selection value; it lives in a
folder of its own, ``providers/<code>/``, as Odoo's ``payment_<code>`` addons
do. To add one, create ``providers/<code>/`` with:

- ``models.py``: ``selection_add`` the code on the gateway, with its
  credential fields (``groups="base.group_system", copy=False``), and one
  class inheriting ``account.payment.reminder.provider`` that implements
  ``_get_supported_channels`` and ``_send(gateway, payload)`` (and
  ``_send_batch`` when the API takes many messages in one call);
- ``client.py``: the HTTP client, plain Python, one method doing the I/O
  through ``providers.http.call``;
- ``errors.py``: the provider's error codes as ``ReminderRetryableError``
  (with the provider's ``retry_after``), ``ReminderPermanentError`` or
  ``ReminderOptOutError``;
- for receipts and replies, ``signature.py``, ``payloads.py``, ``const.py``
  (the provider's statuses as message states) and ``controllers.py``, whose
  routes check the signature and call ``_process_receipt`` / ``_process_inbound``
  of ``account.payment.reminder.message``;
- ``fake.py``: the provider's protocol for the tests' local fake server.

Then import the folder in ``providers/__init__.py``.
"""

import logging
from contextlib import nullcontext

from odoo import _, api, models

from ..exceptions import ReminderPermanentError, ReminderProviderError

_logger = logging.getLogger(__name__)


class AccountPaymentReminderProvider(models.AbstractModel):
    _name = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider (contract)"
    _writes_to_database = True
    """Whether ``_send`` writes to the database (Odoo's mail queue, IAP SMS,
    snailmail): see ``_transaction_guard``. A provider that only calls an
    HTTP API says False."""

    @api.model
    def _transaction_guard(self):
        """What a call to this provider runs in: a savepoint when it writes to
        the database, so that an error there stays with its message; nothing
        when it only calls HTTP (a savepoint costs two queries a message)."""
        return self.env.cr.savepoint() if self._writes_to_database else nullcontext()

    @api.model
    def _get_supported_channels(self):
        """The channels this provider can carry: a subset of email/whatsapp/sms."""
        return set()

    @api.model
    def _send(self, gateway, payload):
        """Hand one message to the provider. Never called inside an open
        transaction that holds locks the rest of Odoo waits for.

        :param gateway: the ``account.payment.reminder.gateway`` record (sudo)
        :param payload: the message as plain values, final
            (:class:`~odoo.addons.account_payment_reminder.providers.common.OutgoingPayload`)
        :return: dict with ``provider_message_id`` and optionally ``state``
            (``sent`` by default, ``delivered`` when the provider knows),
            ``segments``, ``cost``, ``payload`` (what went out, for the record)
        :raise ReminderRetryableError: the message may pass later (with the
            provider's ``retry_after`` when it gave one)
        :raise ReminderPermanentError: it never will (``ReminderOptOutError``
            when the recipient opted out)
        """
        raise NotImplementedError()

    @api.model
    def _get_batch_size(self):
        """How many messages the dispatch hands to ``_send_batch`` at once (1:
        one ``_send`` each)."""
        return 1

    @api.model
    def _send_batch(self, gateway, payloads):
        """Hand several messages to the provider; by default one ``_send``
        each, a provider whose API takes many messages in one call overrides it.

        :return: a list aligned on ``payloads``: for each, the dict ``_send``
            returns, or the ``ReminderProviderError`` it raised
        """
        results = []
        for payload in payloads:
            try:
                with self._transaction_guard():
                    results.append(self._send(gateway, payload))
            except ReminderProviderError as error:
                results.append(error)
            except Exception as error:  # noqa: BLE001 - one bad message never stops the others
                _logger.exception("Payment reminder %s: unexpected provider error", payload.message_id)
                results.append(ReminderPermanentError(_("Unexpected error: %(error)s", error=error), code="internal"))
        return results

    @api.model
    def _check_connection(self, gateway):
        """Check the credentials; return a sentence for the user or raise UserError."""
        return _("Nothing to check for this provider.")

    @api.model
    def _get_webhook_path(self, gateway):
        """The path (after the base URL) where the provider posts receipts and
        replies, or None when it has no webhook."""
        return None

    @api.model
    def _get_receipt_error(self, code, reason):
        """The typed error a failed delivery receipt stands for (human reason;
        a ``ReminderOptOutError`` when the recipient opted out)."""
        return ReminderPermanentError(reason or _("Not delivered."), code=code)

    @api.model
    def _check_whatsapp_free_text(self, payload, code):
        """WhatsApp takes free text (no approved template) only within 24 hours
        of the customer's last message; raise ``code``'s error otherwise.

        The window is read here, when free text is about to go, not for every
        payload: most WhatsApp reminders are templates, and a read per message
        costs a query once the dispatch's commit has emptied the cache."""
        partner = self.env["res.partner"].browse(payload.partner_id)
        if not (partner and partner._payment_reminder_whatsapp_window_open()):
            raise self._get_receipt_error(code, None)
