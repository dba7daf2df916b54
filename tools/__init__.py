from . import phone, schedule
