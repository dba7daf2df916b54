/** @odoo-module **/
import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

/**
 * One customer on one screen, before the call: what it owes net of its
 * credits by age, what it promised and planned, the last messages and what
 * became of them, its disputes and the next reminder. Everything comes from
 * account.payment.reminder.card.get_card(); the links open what they count.
 */
export class CollectionCard extends Component {
    static template = "account_payment_reminder.CollectionCard";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ card: null });
        const { params, context } = this.props.action;
        this.partnerId = params?.partner_id || context?.active_id;
        onWillStart(() => this.load());
    }

    async load() {
        if (this.partnerId) {
            this.state.card = await this.orm.call("account.payment.reminder.card", "get_card", [this.partnerId]);
        }
    }

    open(action) {
        if (action) {
            this.actionService.doAction(action);
        }
    }

    openRecord(model, id) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
        });
    }

    async send() {
        await this.actionService.doAction(this.state.card.actions.send, { onClose: () => this.load() });
    }

    stateClass(message) {
        return (
            {
                failed: "text-bg-danger",
                read: "text-bg-success",
                delivered: "text-bg-info",
                sent: "text-bg-light",
                cancelled: "text-bg-secondary",
            }[message.state] || "text-bg-warning"
        );
    }
}

registry.category("actions").add("account_payment_reminder.collection_card", CollectionCard);
