"""Errors raised by the reminder providers and handled by the dispatcher."""


class ReminderProviderError(Exception):
    """A provider refused or could not take a message.

    :param reason: a human sentence (a lazy translation from ``tools`` or a
        translated string), shown on the message and in the chatter
    :param code: the provider's own error code, kept for reports
    :param transient: True when the same message may succeed later (rate
        limit, timeout, 5xx); the dispatcher retries it with backoff
    :param opt_out: True when the provider says the recipient opted out
    :param detail: the provider's own words, appended untranslated
    """

    def __init__(self, reason, code=None, transient=False, opt_out=False, detail=None):
        super().__init__(getattr(reason, "_source", reason))
        self.reason = reason
        self.code = str(code) if code not in (None, "") else None
        self.transient = transient
        self.opt_out = opt_out
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
