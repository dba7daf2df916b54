/** @odoo-module **/
import { registry } from "@web/core/registry";

// The credit controller opens the Credit Control overview, reads the DSO
// section, opens the collection card of the most overdue customer from its
// row, and finds there what it owes net of credits, its promise and the next
// reminder.
registry.category("web_tour.tours").add("account_payment_reminder_collection_card_tour", {
    steps: () => [
        {
            content: "The DSO section shows the days sales outstanding",
            trigger: ".o_apr_credit_control .o_apr_dso .o_apr_dso_value:contains('days')",
        },
        {
            content: "Its chart is drawn",
            trigger: ".o_apr_credit_control .o_apr_dso canvas",
        },
        {
            content: "Open the collection card of the most overdue customer",
            trigger: ".o_apr_credit_control .o_apr_customers tr:contains('Tour Card Customer') .o_apr_open_card",
            run: "click",
        },
        {
            content: "The card is the customer's",
            trigger: ".o_apr_collection_card .o_apr_card_customer:contains('Tour Card Customer')",
        },
        {
            content: "It shows what is owed net of the credit note",
            trigger: ".o_apr_collection_card .o_apr_card_balance .o_apr_card_total:contains('450.00')",
        },
        {
            content: "The promise",
            trigger: ".o_apr_collection_card .o_apr_card_promises .list-group-item",
        },
        {
            content: "And the next step",
            trigger: ".o_apr_collection_card .o_apr_card_next",
        },
        {
            content: "Back to the overview",
            trigger: ".o_control_panel .o_breadcrumb a:contains('Credit Control')",
            run: "click",
        },
        {
            content: "The overview is back",
            trigger: ".o_apr_credit_control .o_apr_customers",
        },
    ],
});
