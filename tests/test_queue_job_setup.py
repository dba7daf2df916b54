from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install", "queue_job")
class TestQueueJobInstalled(TransactionCase):
    """The third pass of scripts/run_tests.py installs OCA's queue_job beside the addon
    and runs the tests tagged queue_job: this one fails when that pass does not."""

    def test_queue_job_installed_beside_the_addon(self):
        self.assertIn("queue.job", self.env)
        modules = self.env["ir.module.module"].search([("name", "in", ("queue_job", "account_payment_reminder"))])
        self.assertEqual(
            {module.name: module.state for module in modules},
            {"queue_job": "installed", "account_payment_reminder": "installed"},
        )
