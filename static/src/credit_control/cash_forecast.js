/** @odoo-module **/
import { Component } from "@odoo/owl";

/**
 * Expected cash, week by week for the next 13 weeks, per currency: one bar a
 * week (CSS, no chart library), each opening the invoices behind it. Drawn
 * from get_overview()'s "forecast" key (account_payment_reminder_dashboard.py).
 */
export class CashForecast extends Component {
    static template = "account_payment_reminder.CashForecast";
    static props = { forecast: Array, open: Function };
}
