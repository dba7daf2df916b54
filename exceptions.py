"""Errors raised by the reminder providers and handled by the dispatcher.

The dispatcher decides from the type: a :class:`ReminderRetryableError` is
tried again later (not before its ``retry_after``), anything else fails the
message and falls back; a :class:`ReminderOptOutError` also records that the
customer opted out of the channel.
"""


class ReminderProviderError(Exception):
    """A provider refused or could not take a message (the base of the typed
    errors below; raised as such, it is permanent).

    :param reason: a human sentence (a lazy translation or a translated
        string), shown on the message and in the chatter
    :param code: the provider's own error code, kept for reports
    :param detail: the provider's own words, appended untranslated
    """

    def __init__(self, reason, code=None, detail=None):
        super().__init__(getattr(reason, "_source", reason))
        self.reason = reason
        self.code = str(code) if code not in (None, "") else None
        self.detail = detail

    def terms(self):
        """The reason and detail, to be read in any language later (see
        ``tools.terms``)."""
        from .tools.terms import with_detail  # noqa: PLC0415 - tools' clients import this module

        return with_detail(self.reason, self.detail)

    def message(self, lang=None):
        """The reason in ``lang``, followed by the provider's detail."""
        reason = self.reason
        text = reason._translate(lang or "en_US") if hasattr(reason, "_translate") else str(reason)
        return f"{text} ({self.detail})" if self.detail and self.detail not in text else text


class ReminderRetryableError(ReminderProviderError):
    """The same message may pass later: a rate limit, a timeout, a 5xx.

    :param retry_after: seconds the provider asks to wait (an HTTP
        ``Retry-After``), or None; the retry never comes earlier, and never
        earlier than the dispatcher's own backoff either
    """

    def __init__(self, reason, code=None, retry_after=None, detail=None):
        super().__init__(reason, code=code, detail=detail)
        self.retry_after = retry_after


class ReminderPermanentError(ReminderProviderError):
    """The message will never pass as it is: the next channel is tried."""


class ReminderOptOutError(ReminderPermanentError):
    """The provider says the recipient opted out of this channel."""
