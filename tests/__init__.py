from . import test_schedule
from . import test_tools
from . import test_cron
from . import test_reliability
from . import test_security
from . import test_channels
from . import test_webhooks
