from . import account_payment_reminder_send
from . import account_payment_reminder_plan_propose
from . import account_payment_reminder_dry_run
