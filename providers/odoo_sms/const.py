SMS_TO_REMINDER_STATES = {"process": "sent", "pending": "sent", "sent": "delivered"}
"""Odoo's sms.sms states (what IAP_TO_SMS_STATE_SUCCESS gives) as reminder states."""
RETRYABLE_FAILURES = {"sms_server", "unknown"}
"""sms.sms failure types that may pass if tried again later."""
