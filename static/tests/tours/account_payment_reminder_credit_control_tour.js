/** @odoo-module **/
import { registry } from "@web/core/registry";

// The credit controller opens the Credit Control overview, follows the overdue
// figure to its list (the same invoices, with their customer), comes back and
// follows the promises due this week.
registry.category("web_tour.tours").add("account_payment_reminder_credit_control_tour", {
    steps: () => [
        {
            content: "The overview is titled, not a technical name",
            trigger: ".o_control_panel .o_breadcrumb:contains('Credit Control')",
        },
        {
            content: "The overdue figure counts two invoices",
            trigger: ".o_apr_credit_control [data-figure=overdue] .o_apr_figure_detail:contains('2 invoices')",
        },
        {
            content: "The graph of overdue by age and level is drawn",
            trigger: ".o_apr_credit_control canvas",
        },
        {
            content: "Follow the overdue figure",
            trigger: ".o_apr_credit_control [data-figure=overdue]",
            run: "click",
        },
        {
            content: "The list has a Customer column",
            trigger: ".o_list_view thead th[data-name=invoice_partner_display_name]",
        },
        {
            content: "It lists exactly the two invoices counted, ungrouped",
            trigger:
                ".o_list_view:not(:has(.o_group_header)) tbody:has(.o_data_row:nth-child(2)):not(:has(.o_data_row:nth-child(3))) .o_data_row:contains('Tour Overdue Customer')",
        },
        {
            content: "Back to the overview",
            trigger: ".o_control_panel .o_breadcrumb a:contains('Credit Control')",
            run: "click",
        },
        {
            content: "One promise is due this week",
            trigger: ".o_apr_credit_control [data-figure=promises_week] .o_apr_figure_value:contains('1')",
        },
        {
            content: "Follow it",
            trigger: ".o_apr_credit_control [data-figure=promises_week]",
            run: "click",
        },
        {
            content: "The list shows that one promise",
            trigger:
                ".o_list_view tbody:has(.o_data_row):not(:has(.o_data_row:nth-child(2))) .o_data_row:contains('Tour Overdue Customer')",
        },
    ],
});
