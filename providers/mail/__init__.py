from . import models
from . import mail_thread
