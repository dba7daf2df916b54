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

// An accountant sends a reminder from the customer form: the wizard takes the
// level the customer's invoices are due for, leaves out the one on hold, names
// the contact and labels the subject in the preview.
registry.category("web_tour.tours").add("account_payment_reminder_customer_tour", {
    steps: () => [
        {
            content: "Open the customer's Invoicing tab",
            trigger: ".o_form_view .o_notebook a.nav-link[name=accounting]",
            run: "click",
        },
        {
            content: "Open the reminder wizard from the customer",
            trigger: ".o_form_view .o_notebook button:contains('Send Reminder')",
            run: "click",
        },
        {
            content: "One line for the customer, at the level due, with what is held left out",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:contains('ap@azure.example'):contains('Overdue')",
        },
        {
            content: "Open the line's preview",
            trigger:
                ".modal .o_field_widget[name=line_ids] .o_data_row:contains('ap@azure.example') .o_list_record_open_form_view button",
            run: "click",
        },
        {
            content: "The preview is titled with the customer and the channel",
            trigger: ".modal .modal-title:contains('Preview: Azure Interior, E-mail')",
        },
        {
            content: "The preview names the contact",
            trigger: ".modal .o_field_widget[name=recipient_partner_id]:contains('Azure Interior')",
        },
        {
            content: "The subject is labelled and whole",
            trigger: ".modal label:contains('Subject')",
        },
        {
            content: "The held invoice is said to be left out",
            trigger: ".modal .o_field_widget[name=held_note]:contains('Disputed quantity')",
        },
        {
            content: "The preview is read-only: no Save nor Discard, only Close",
            trigger:
                ".modal:has(.modal-title:contains('Preview:')) .modal-footer:not(:has(.o_form_button_save)):not(:has(button:contains('Discard'))) button:contains('Close')",
            run: "click",
        },
        {
            content: "Send it now",
            trigger: ".modal:not(:has(.o_field_widget[name=held_note])) .modal-footer button:contains('Send Now'):enabled",
            run: "click",
        },
        {
            content: "The wizard closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
