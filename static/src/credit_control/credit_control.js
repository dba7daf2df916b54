/** @odoo-module **/
import { Component, onWillStart, onWillUnmount, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { CashForecast } from "./cash_forecast"; // expected cash (issue 20)

const NOT_REMINDED = "#adb5bd";
const SEVERITY = ["#5bc0de", "#8cc152", "#f6bb42", "#e9573f", "#c0392b", "#7b241c"];

/**
 * The credit controller's home: headline figures, the overdue amount by age
 * and reminder level, and what needs action today. Everything comes from
 * account.payment.reminder.dashboard.get_overview(); each figure opens the
 * list it counts (the action is built server-side from the same domain).
 */
export class CreditControl extends Component {
    static template = "account_payment_reminder.CreditControl";
    static components = { Layout, CashForecast };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.canvasRef = useRef("canvas");
        this.state = useState({ data: null });
        this.chart = null;
        // --- DSO and the collection card (issue 20): the DSO chart ---
        this.dsoCanvasRef = useRef("dsoCanvas");
        this.dsoChart = null;
        useEffect(
            () => this.renderDsoChart(),
            () => [this.state.data]
        );
        onWillUnmount(() => this.dsoChart?.destroy());
        // --- end DSO and the collection card ---
        onWillStart(async () => {
            await Promise.all([loadBundle("web.chartjs_lib"), this.load()]);
        });
        useEffect(
            () => this.renderChart(),
            () => [this.state.data]
        );
        onWillUnmount(() => this.chart?.destroy());
    }

    async load() {
        this.state.data = await this.orm.call("account.payment.reminder.dashboard", "get_overview", []);
    }

    open(action) {
        if (action) {
            this.actionService.doAction(action);
        }
    }

    openDryRun() {
        this.actionService.doAction("account_payment_reminder.account_payment_reminder_dry_run_action");
    }

    formatAmount(amount) {
        const { symbol, position, digits } = this.state.data.currency;
        const number = amount.toLocaleString(undefined, {
            minimumFractionDigits: digits,
            maximumFractionDigits: digits,
        });
        return position === "before" ? `${symbol} ${number}` : `${number} ${symbol}`;
    }

    renderChart() {
        this.chart?.destroy();
        this.chart = null;
        const aging = this.state.data?.aging;
        const canvas = this.canvasRef.el;
        if (!aging || !aging.series.length || !canvas) {
            return;
        }
        // not reminded yet in grey, then each level by its place in the ladder, from calm to alarming
        const color = (serie) =>
            serie.level_id ? SEVERITY[Math.round(serie.severity * (SEVERITY.length - 1))] : NOT_REMINDED;
        this.chart = new window.Chart(canvas, {
            type: "bar",
            data: {
                labels: aging.buckets,
                datasets: aging.series.map((serie) => ({
                    label: serie.label,
                    data: serie.amounts,
                    backgroundColor: color(serie),
                })),
            },
            options: {
                maintainAspectRatio: false,
                scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
                plugins: {
                    tooltip: {
                        callbacks: {
                            label: (item) => `${item.dataset.label}: ${this.formatAmount(item.raw)}`,
                        },
                    },
                },
                onHover: (event, elements) => {
                    event.native.target.style.cursor = elements.length ? "pointer" : "default";
                },
                onClick: (event, elements) => {
                    const [element] = elements;
                    if (element) {
                        this.open(aging.series[element.datasetIndex].actions[element.index]);
                    }
                },
            },
        });
    }

    // --- DSO and the collection card (issue 20): DSO and overdue by month ---
    dsoTone(change) {
        return change < 0 ? "text-success" : change > 0 ? "text-danger" : "text-muted";
    }

    renderDsoChart() {
        this.dsoChart?.destroy();
        this.dsoChart = null;
        const dso = this.state.data?.dso;
        const canvas = this.dsoCanvasRef.el;
        if (!dso || !canvas) {
            return;
        }
        const months = dso.months;
        this.dsoChart = new window.Chart(canvas, {
            type: "bar",
            data: {
                labels: months.map((month) => month.label),
                datasets: [
                    {
                        type: "line",
                        label: dso.labels.dso,
                        data: months.map((month) => month.dso),
                        borderColor: "#017e84",
                        backgroundColor: "#017e84",
                        yAxisID: "days",
                        tension: 0.2,
                    },
                    {
                        type: "bar",
                        label: dso.labels.overdue,
                        data: months.map((month) => month.overdue),
                        backgroundColor: "rgba(233, 87, 63, 0.35)",
                        yAxisID: "amount",
                    },
                ],
            },
            options: {
                maintainAspectRatio: false,
                scales: {
                    days: { position: "left", beginAtZero: true, title: { display: true, text: dso.labels.days } },
                    amount: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
                },
                plugins: {
                    tooltip: {
                        callbacks: {
                            label: (item) =>
                                item.dataset.yAxisID === "days"
                                    ? `${item.dataset.label}: ${months[item.dataIndex].dso_display}`
                                    : `${item.dataset.label}: ${months[item.dataIndex].overdue_display}`,
                        },
                    },
                },
            },
        });
    }
    // --- end DSO and the collection card ---
}

registry.category("actions").add("account_payment_reminder.credit_control", CreditControl);
