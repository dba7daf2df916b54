from . import behaviour, keywords, phone, plans, schedule, sms
