from . import provider
from . import whatsapp
from . import twilio
from . import odoo_sms
