from . import keywords, phone, schedule, signatures, sms
