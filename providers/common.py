"""What a provider is given to send: plain values, no ORM record."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingPayload:
    """One message, as final as it leaves: built once from the message by
    ``account.payment.reminder.message._prepare_outgoing_payload`` and handed
    to ``provider._send(gateway, payload)``.

    The text is already rendered in the customer's language; a provider only
    shapes it for its API.
    """

    message_id: int
    """The reminder message's id, for references and logs."""
    channel: str
    """``email``, ``whatsapp``, ``sms`` or ``letter``."""
    recipient: str
    """An e-mail address, an E.164 number (with ``+``), or a postal address on one line."""
    body: str = ""
    """The text of an SMS or a free-form WhatsApp message."""
    subject: str = ""
    body_html: str = ""
    email_from: str = ""
    reply_to: str = ""
    headers: dict = field(default_factory=dict)
    """Extra e-mail headers (the one-click unsubscribe of RFC 8058)."""
    partner_id: int | None = None
    """The contact the message goes to (Odoo SMS links its ``sms.sms`` to it)."""
    idempotency_key: str = ""
    """Unique per message: a provider that echoes a tracker gets this one."""
    segments: int = 0
    """The SMS segments counted when the message was rendered."""
    whatsapp_template: str = ""
    """The approved WhatsApp template's name, empty for free-form text."""
    whatsapp_lang: str = ""
    whatsapp_params: tuple = ()
    """The template's ``{{1}}..{{n}}`` body texts, in order."""
    whatsapp_button: str = ""
    """The dynamic end of the template's URL button, if any."""
    twilio_content_sid: str = ""
    """The same template approved on Twilio (Content API), if any."""
    email_cc: str = ""
    """An e-mail's copy (the customer's accounts-payable contact)."""
    attachment_ids: tuple = ()
    """``ir.attachment`` ids: a letter's PDF, an e-mail's documents."""
    company_id: int | None = None
    """The company the message is sent for (a letter's return address)."""
    document_id: int | None = None
    """The oldest invoice the message lists: where a posted letter is recorded."""
