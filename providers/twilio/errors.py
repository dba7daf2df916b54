"""Twilio's error codes as typed reminder errors: what each means in words,
which ones pass if tried again later, which ones are opt-outs."""

from odoo.tools.translate import LazyTranslate

from ...exceptions import ReminderOptOutError, ReminderPermanentError, ReminderRetryableError

_lt = LazyTranslate(__name__, default_lang="en_US")

RETRYABLE_CODES = {20429, 14107, 30001, 30003, 63018, 63017, 20500, 20503}
OPT_OUT_CODES = {21610, 63014}
REASONS = {
    21211: _lt("The phone number is not valid for Twilio."),
    21408: _lt("Sending to this country is not enabled on the Twilio account."),
    21608: _lt("Trial accounts can only send to verified numbers."),
    21610: _lt("The customer replied STOP to this number: SMS are blocked until they reply START."),
    21614: _lt("The number cannot receive SMS (not a mobile number)."),
    21635: _lt("The number is a landline: it cannot receive SMS."),
    20003: _lt("Twilio refused the credentials: check the Account SID and Auth Token."),
    20429: _lt("Twilio rate limit reached; retrying later."),
    14107: _lt("Too many messages between these two numbers; retrying later."),
    30003: _lt("The handset is unreachable; retrying later."),
    30005: _lt("Unknown destination handset."),
    30006: _lt("Landline or unreachable carrier."),
    30007: _lt("The carrier filtered the message."),
    63016: _lt("Outside WhatsApp's 24-hour window: only an approved template may be sent."),
    63014: _lt("The customer blocked this business on WhatsApp."),
    63018: _lt("WhatsApp rate limit reached; retrying later."),
}


def twilio_error(code, status=None, answer=None, retry_after=None):
    """The typed error of a Twilio error code (an API answer or a status
    callback).

    :param retry_after: the seconds of the answer's ``Retry-After``, if any
    """
    try:
        code = int(code) if code not in (None, "") else None
    except (TypeError, ValueError):
        code = None
    message = (answer or {}).get("message") if isinstance(answer, dict) else None
    reason = REASONS.get(code) or _lt("Twilio refused the message (code %s).", code or status)
    code_or_status = code or f"http_{status}"
    if code in RETRYABLE_CODES or (status or 0) >= 500 or status == 429:
        return ReminderRetryableError(reason, code=code_or_status, retry_after=retry_after, detail=message or None)
    if code in OPT_OUT_CODES:
        return ReminderOptOutError(reason, code=code_or_status, detail=message or None)
    return ReminderPermanentError(reason, code=code_or_status, detail=message or None)
