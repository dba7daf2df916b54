import importlib.util

from . import test_schedule
from . import test_tools
from . import test_cron
from . import test_reliability
from . import test_security
from . import test_channels
from . import test_webhooks
from . import test_manual
from . import test_plans
from . import test_tour
from . import test_reporting
from . import test_pipeline
from . import test_statement
from . import test_late_charges
from . import test_screens
from . import test_tour_credit_control
from . import test_portal
from . import test_portal_tour
from . import test_render_at_once
from . import test_walls
from . import test_ladder
from . import test_lifecycle
from . import test_replies
from . import test_on_its_way
from . import test_collection_card
from . import test_behaviour
from . import test_learner
from . import test_letters

# OCA's queue_job is not a dependency: its tests are collected only where queue_job is on the addons path
# (scripts/run_tests.py's third pass installs it there), so that a CI installing only the manifest's
# dependencies neither runs nor skips them
if importlib.util.find_spec("odoo.addons.queue_job"):
    from . import test_queue_job
