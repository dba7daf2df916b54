"""Meta's error codes as typed reminder errors: what each means in words,
which ones pass if tried again later, which one is an opt-out."""

from odoo.tools.translate import LazyTranslate

from ...exceptions import ReminderOptOutError, ReminderPermanentError, ReminderRetryableError

_lt = LazyTranslate(__name__, default_lang="en_US")

RETRYABLE_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057}
OPT_OUT_CODES = {131050}
REASONS = {
    130429: _lt("WhatsApp rate limit reached for this number; retrying later."),
    131056: _lt("Too many messages to this customer in a short time; retrying later."),
    131057: _lt("The WhatsApp account is in maintenance; retrying later."),
    131026: _lt("The number is not on WhatsApp (or cannot receive this message)."),
    131047: _lt("More than 24 hours since the customer last wrote: only an approved template may be sent."),
    131050: _lt("The customer stopped messages from this business on WhatsApp."),
    131030: _lt("The number is not in the test account's allowed list."),
    131009: _lt("A parameter of the message is invalid."),
    132000: _lt("The number of template parameters does not match the approved template."),
    132001: _lt("The template does not exist in this language or is not approved."),
    132005: _lt("A template parameter is too long."),
    132012: _lt("A template parameter has the wrong format."),
    132015: _lt("The template is paused by Meta because of low quality."),
    132016: _lt("The template is permanently disabled by Meta."),
    190: _lt("The WhatsApp access token is invalid or expired: ask an administrator to renew it."),
}


def whatsapp_error(status, answer, retry_after=None):
    """The typed error of a Graph API answer (HTTP ``status`` and its JSON),
    or of a failed status webhook (status 200 and the error object).

    :param retry_after: the seconds of the answer's ``Retry-After``, if any
    """
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    detail = (error.get("error_data") or {}).get("details") or error.get("message") or ""
    reason = REASONS.get(code) or _lt("WhatsApp refused the message (code %s).", code or status)
    code_or_status = code or f"http_{status}"
    if code in RETRYABLE_CODES or status >= 500 or status == 429:
        return ReminderRetryableError(reason, code=code_or_status, retry_after=retry_after, detail=detail or None)
    if code in OPT_OUT_CODES:
        return ReminderOptOutError(reason, code=code_or_status, detail=detail or None)
    return ReminderPermanentError(reason, code=code_or_status, detail=detail or None)
