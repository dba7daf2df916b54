/** @odoo-module **/
import { registry } from "@web/core/registry";

// A customer opens the link of a reminder on a phone (tests/test_portal_tour.py).

function isoDate(days) {
    const day = new Date();
    day.setDate(day.getDate() + days);
    return day.toISOString().slice(0, 10);
}

// A date input takes its value as the phone's date picker gives it (YYYY-MM-DD).
function pickDate(days) {
    return function () {
        this.anchor.value = isoDate(days);
        this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
    };
}

const pageIsOpen = {
    content: "The page shows the open invoice",
    trigger: "#apr_statement .apr_invoice",
};

registry.category("web_tour.tours").add("account_payment_reminder_page_promise", {
    steps: () => [
        pageIsOpen,
        {
            content: "Open the promise form",
            trigger: "#apr_promise summary",
            run: "click",
        },
        {
            content: "Promise to pay in a week",
            trigger: "#apr_promise_date",
            run: pickDate(7),
        },
        {
            content: "Send the promise",
            trigger: "#apr_promise button[type=submit]",
            run: "click",
        },
        {
            content: "The promise is recorded",
            trigger: "#apr_done:contains('your promise is recorded')",
        },
        {
            content: "and shown on the page",
            trigger: ".apr_promise_open",
        },
    ],
});

registry.category("web_tour.tours").add("account_payment_reminder_page_plan", {
    steps: () => [
        pageIsOpen,
        {
            content: "Open the payment plan form",
            trigger: "#apr_plan summary",
            run: "click",
        },
        {
            content: "Three instalments",
            trigger: "#apr_plan_count",
            run: "select 3",
        },
        {
            content: "every month",
            trigger: "#apr_plan_frequency",
            run: "select monthly",
        },
        {
            content: "Ask for the plan",
            trigger: "#apr_plan button[type=submit]",
            run: "click",
        },
        {
            content: "The plan has started",
            trigger: "#apr_done:contains('Your payment plan has started')",
        },
        {
            content: "Pay the first instalment",
            trigger: ".apr_plan_schedule .apr_pay_instalment",
            run: "click",
        },
        {
            content: "Odoo's payment form asks for the first instalment",
            trigger: "#apr_pay_amount:contains('300.00')",
        },
        {
            content: "Choose the payment method",
            trigger: "input[name=o_payment_radio][data-payment-method-code=unknown]",
            run: "click",
        },
        {
            content: "Pay",
            trigger: "button[name=o_payment_submit_button]:not(:disabled)",
            run: "click",
        },
        {
            content: "The bank's page sends the customer to Odoo's payment status page",
            trigger: "div[name=o_payment_status]",
            timeout: 20000,
        },
    ],
});

// Once the bank has confirmed the payment: the customer is back on the page.
registry.category("web_tour.tours").add("account_payment_reminder_page_after_payment", {
    steps: () => [
        {
            content: "Back on the page after the payment",
            trigger: "#apr_done:contains('Thank you for your payment')",
        },
        {
            content: "The first instalment is paid",
            trigger: ".apr_plan_schedule .badge:contains('Paid')",
        },
    ],
});

registry.category("web_tour.tours").add("account_payment_reminder_page_paid", {
    steps: () => [
        pageIsOpen,
        {
            content: "Open the 'already paid' form",
            trigger: "#apr_report_paid summary",
            run: "click",
        },
        {
            content: "The invoice concerned",
            trigger: "#apr_report_paid input[name=invoice_ids]",
            run: "check",
        },
        {
            content: "Paid yesterday",
            trigger: "#apr_paid_date",
            run: pickDate(-1),
        },
        {
            content: "with the bank's reference",
            trigger: "#apr_paid_reference",
            run: "edit BANK-42",
        },
        {
            content: "and the transfer's receipt",
            trigger: "#apr_paid_proof",
            run() {
                const proof = new File(["%PDF-1.4\n%%EOF\n"], "transfer.pdf", { type: "application/pdf" });
                const files = new DataTransfer();
                files.items.add(proof);
                this.anchor.files = files.files;
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Send",
            trigger: "#apr_report_paid button[type=submit]",
            run: "click",
        },
        {
            content: "The customer is told what happens next",
            trigger: "#apr_done:contains('we will check your payment')",
        },
        {
            content: "The invoice is under review",
            trigger: ".apr_invoice:contains('Under review')",
        },
    ],
});
