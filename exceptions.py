"""Errors raised by the reminder providers and handled by the dispatcher."""


class ReminderProviderError(Exception):
    """A provider refused or could not take a message.

    :param reason: a human sentence, shown on the message and in the chatter
    :param code: the provider's own error code, kept for reports
    :param transient: True when the same message may succeed later (rate
        limit, timeout, 5xx); the dispatcher retries it with backoff
    :param opt_out: True when the provider says the recipient opted out
    """

    def __init__(self, reason, code=None, transient=False, opt_out=False):
        super().__init__(reason)
        self.reason = reason
        self.code = code and str(code)
        self.transient = transient
        self.opt_out = opt_out
