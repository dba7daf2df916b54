/** @odoo-module **/
import { registry } from "@web/core/registry";

// The reminder analysis graph counts messages: its value axis steps by whole
// messages (Chart.js would put ticks at 0.5 of a message for small counts).
registry.category("web_tour.tours").add("account_payment_reminder_reporting_graph_tour", {
    steps: () => [
        {
            content: "The graph counts messages",
            trigger: ".o_graph_view .o_graph_canvas_container canvas",
        },
        {
            content: "Its value axis has whole numbers only",
            trigger: ".o_graph_view .o_graph_canvas_container canvas",
            run() {
                const chart = window.Chart.getChart(this.anchor);
                const ticks = chart.scales.y.ticks.map((tick) => tick.value);
                if (ticks.length < 2 || ticks.some((value) => !Number.isInteger(value))) {
                    throw new Error(`The value axis has ticks ${ticks.join(", ")}`);
                }
                if (chart.options.scales.y.title.text !== "Messages") {
                    throw new Error(`The axis is titled ${chart.options.scales.y.title.text}`);
                }
            },
        },
    ],
});
