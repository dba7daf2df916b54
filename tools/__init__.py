from . import keywords, phone, plans, schedule, signatures, sms
