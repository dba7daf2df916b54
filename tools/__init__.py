from . import keywords, phone, plans, schedule, sms
