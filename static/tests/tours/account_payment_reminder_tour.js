/** @odoo-module **/
import { registry } from "@web/core/registry";

// An accountant opens an overdue invoice, sends a reminder from the wizard and
// finds it in the invoice's reminder history.
registry.category("web_tour.tours").add("account_payment_reminder_send_tour", {
    steps: () => [
        {
            content: "The invoice is open",
            trigger: ".o_form_view .o_field_widget[name=name]:contains('INV/')",
        },
        {
            content: "Open the reminder wizard",
            trigger: ".o_form_view .o_statusbar_buttons button:contains('Send Reminder')",
            run: "click",
        },
        {
            content: "The wizard previews the e-mail for the customer",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:contains('ap@azure.example')",
        },
        {
            content: "Send it now",
            trigger: ".modal .modal-footer button:contains('Send Now')",
            run: "click",
        },
        {
            content: "Back on the invoice, open the reminder history",
            trigger: "body:not(:has(.modal)) .o_notebook .nav-link:contains('Reminders')",
            run: "click",
        },
        {
            content: "The reminder is in the history, sent by e-mail",
            trigger: ".o_field_widget[name=payment_reminder_message_ids] .o_data_row:contains('ap@azure.example'):contains('Sent')",
        },
    ],
});
