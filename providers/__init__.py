from . import provider
from . import mail
from . import sandbox
from . import whatsapp
from . import twilio
from . import odoo_sms
from . import snailmail
from . import print_batch
