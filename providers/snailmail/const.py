RETRYABLE_ERRORS = {"CREDIT_ERROR", "TRIAL_ERROR", "UNKNOWN_ERROR"}
"""snailmail.letter error codes that may pass later (credits bought, the
service back), as Odoo's snailmail cron retries them; the others (an address
the service refuses, a country it does not cover, a PDF it cannot print)
never will."""
