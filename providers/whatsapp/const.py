STATES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}
"""Meta's message statuses as reminder message states."""
