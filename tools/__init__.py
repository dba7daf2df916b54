from . import http, keywords, phone, plans, schedule, signatures, sms
