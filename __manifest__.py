# Copyright 2026 account_payment_reminder authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Payment Reminders (e-mail, WhatsApp, SMS)",
    "summary": "Chase overdue and soon-due customer invoices by e-mail, WhatsApp "
    "and SMS, level by level, at the right hour for each customer",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/account-payment-reminder/account_payment_reminder",
    "author": "account_payment_reminder authors",
    "license": "LGPL-3",
    "depends": ["account", "mail", "portal", "phone_validation", "sms", "link_tracker"],
    "external_dependencies": {"python": ["phonenumbers", "requests"]},
    "data": [
        "security/account_payment_reminder_security.xml",
        "security/ir.model.access.csv",
        "data/account_payment_reminder_gateway_data.xml",
        "data/mail_template_data.xml",
        "data/account_payment_reminder_policy_data.xml",
        "data/ir_cron_data.xml",
        "views/account_payment_reminder_message_views.xml",
        "views/account_payment_reminder_policy_views.xml",
        "views/account_payment_reminder_gateway_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/account_payment_reminder_menus.xml",
        "views/account_payment_reminder_templates.xml",
    ],
    "demo": ["demo/account_payment_reminder_demo.xml"],
    "installable": True,
}
