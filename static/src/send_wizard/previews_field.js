/** @odoo-module **/
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { X2ManyField, x2ManyField } from "@web/views/fields/x2many/x2many_field";

/**
 * The Send Reminder wizard's previews. What the accountant decides (send or
 * not, why anyway) is edited on the line; the line's View button opens what
 * it is, a read-only preview of one customer's message ("Preview: Azure
 * Interior, E-mail") with a Close button, in place of Odoo's "Open: Message
 * Preview" with Save and Discard, or of the line's full form view (which
 * would close the wizard).
 */
export class PaymentReminderPreviewsField extends X2ManyField {
    async switchToForm(record) {
        const customer = record.data.partner_id ? record.data.partner_id[1] : "";
        const channels = Object.fromEntries(record.fields.channel.selection);
        return this._openRecord({
            record,
            context: this.props.context,
            mode: "readonly",
            title: _t("Preview: %(customer)s, %(channel)s", {
                customer,
                channel: channels[record.data.channel] || "",
            }),
        });
    }
}

registry.category("fields").add("account_payment_reminder_previews", {
    ...x2ManyField,
    component: PaymentReminderPreviewsField,
});
