/** @odoo-module **/
import { registry } from "@web/core/registry";
import { graphView } from "@web/views/graph/graph_view";
import { GraphRenderer } from "@web/views/graph/graph_renderer";

/**
 * Odoo's graph lets Chart.js choose the steps of the value axis: a count of
 * two messages gets ticks at 0.5 and 1.5 messages. When the measure counts
 * (the record count or an integer field summed), the axis steps by whole units.
 */
export class CountGraphRenderer extends GraphRenderer {
    getScaleOptions() {
        const scales = super.getScaleOptions();
        const { fields, measure } = this.model.metaData;
        const field = fields[measure];
        const counts =
            measure === "__count" || (field?.type === "integer" && field.aggregator === "sum");
        if (scales.y && counts) {
            scales.y.ticks.precision = 0;
        }
        return scales;
    }
}

registry.category("views").add("account_payment_reminder_count_graph", {
    ...graphView,
    Renderer: CountGraphRenderer,
});
