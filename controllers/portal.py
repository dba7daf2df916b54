"""The customer's page behind every reminder: ``/reminder/<token>``.

No account needed: the link's token (256 random bits, one customer, one
company, an expiry) is the key. The page shows the customer's statement and
lets them pay (Odoo's payment form and transactions), promise a date, ask for
a payment plan, report an invoice as paid or disputed, and choose their
channels. Every form carries Odoo's CSRF token; posts are rate-limited per
link; bad input gets a sentence on the page (HTTP 400) and changes nothing.
Every answer says ``Cache-Control: no-store`` and ``Referrer-Policy:
no-referrer``: the pages carry personal data and the token is in the URL.
"""

import logging

from werkzeug.exceptions import NotFound

from odoo import _, fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.http import request

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers.portal import PaymentPortal

from ..models.account_payment_reminder_level import CHANNELS
from ..models.account_payment_reminder_response import PROOF_MAX_BYTES

_logger = logging.getLogger(__name__)

DONE_KINDS = {"promise", "plan", "plan_pending", "paid", "dispute", "preferences", "payment", "new_link"}
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
AMOUNT_MAX = 1e15
"""No amount typed on the page is larger: beyond it, rounding a float overflows."""
PREFETCH_HEADERS = ("Purpose", "Sec-Purpose", "X-Purpose", "X-Moz")


class PaymentReminderPortal(PaymentPortal):
    # === ACCESS === #

    def _get_access(self, token):
        """``(link, state)`` for the token, in the customer's language and time
        zone; 404 when no usable link has it. Whatever the answer, no cache
        keeps it and no referrer carries the token."""
        request.future_response.headers.update(PRIVATE_HEADERS)
        # sudo: the page is public; the unguessable token is the key, and everything read through the link is
        # scoped to its customer and company
        access, state = request.env["account.payment.reminder.access"].sudo()._find(token)
        if not access:
            raise NotFound()
        partner = access.partner_id
        installed = {code for code, _name in request.env["res.lang"].get_installed()}
        lang = partner.lang if partner.lang in installed else access.company_id.partner_id.lang
        context = {"lang": lang if lang in installed else "en_US", "tz": partner.tz or access.company_id.partner_id.tz}
        request.update_context(**context)
        request.lang = request.env["res.lang"]._get_data(code=context["lang"])
        return access.with_context(**context), state

    def _render_page(self, access, error=None, done=None, status=200):
        Response = request.env["account.payment.reminder.response"]
        policy = access._get_policy()
        today = fields.Date.context_today(access)
        statement = access._get_statement()
        values = {
            "access": access,
            "partner": access.partner_id,
            "res_company": access.company_id,
            "statement": statement,
            "plans": access._get_plans(),
            "promise": access._get_open_promise(),
            "policy": policy,
            "plan_options": policy._get_portal_plan_options() if policy else {},
            "frequency_labels": dict(
                request.env["account.payment.reminder.plan.propose"]
                ._fields["frequency"]
                ._description_selection(request.env)
            ),
            "channel_labels": dict(
                request.env["res.partner"]
                ._fields["payment_reminder_preferred_channel"]
                ._description_selection(request.env)
            ),
            "today": today,
            "promise_max_date": policy and fields.Date.add(today, days=policy.portal_promise_max_days),
            "error": error,
            "done": done if done in DONE_KINDS else None,
            "proof_max_mb": PROOF_MAX_BYTES // (1024 * 1024),
            "kinds": dict(Response._fields["kind"]._description_selection(request.env)),
        }
        return request.render("account_payment_reminder.portal_page", values, status=status)

    def _render_expired(self, access, done=None, error=None, status=403):
        values = {"access": access, "res_company": access.company_id, "done": done, "error": error}
        return request.render("account_payment_reminder.portal_expired", values, status=status)

    @staticmethod
    def _get_rate_error(access):
        return _(
            "Too many requests from this link. Please try again in %(minutes)s minutes.",
            minutes=access._get_post_wait_minutes(),
        )

    def _handle_post(self, token, done, action, unlimited=None):
        """Run a form's ``action(link)``: refused on an expired link or over
        the rate limit (unless ``unlimited(link)``); a UserError shows its
        sentence on the page (400) and leaves nothing behind; success
        redirects to the page (no resubmit)."""
        access, state = self._get_access(token)
        if state != "valid":
            return self._render_expired(access)
        if not access._check_post_rate() and not (unlimited and unlimited(access)):
            _logger.warning("Reminder page %s: too many posts", access.id)
            return self._render_page(access, error=self._get_rate_error(access), status=429)
        texts = [value for _name, values in request.httprequest.form.lists() for value in values]
        texts += [upload.filename or "" for _name, uploads in request.httprequest.files.lists() for upload in uploads]
        if any("\x00" in text for text in texts):
            error = _("The form contains a character that cannot be stored. Please type your answer again.")
            return self._render_page(access, error=error, status=400)
        try:
            with request.env.cr.savepoint():
                result = action(access)
        except UserError as error:
            return self._render_page(access, error=error.args[0], status=400)
        return request.redirect(f"/reminder/{token}?done={result or done}#top")

    # === INPUT === #

    @staticmethod
    def _parse_date(value, label):
        try:
            return fields.Date.to_date(value or None)
        except ValueError:
            raise UserError(_("%(field)s is not a valid date.", field=label)) from None

    @staticmethod
    def _parse_amount(value):
        if not (value or "").strip():
            return None
        try:
            amount = float(value.replace(",", "."))
        except ValueError:
            raise UserError(_("The amount is not a number.")) from None
        if amount != amount or amount in (float("inf"), float("-inf")):
            raise UserError(_("The amount is not a number."))
        if abs(amount) >= AMOUNT_MAX:
            raise UserError(_("The amount is too large."))
        return amount

    @classmethod
    def _parse_json_amount(cls, value):
        """An amount sent by the payment form (a number, or a text)."""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise UserError(_("The amount is not a number."))
        try:
            text = str(value)
        except ValueError:  # an integer of thousands of digits
            raise UserError(_("The amount is too large.")) from None
        amount = cls._parse_amount(text)
        if amount is None:
            raise UserError(_("The amount is not a number."))
        return amount

    @staticmethod
    def _parse_int(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UserError(_("Choose one of the options offered.")) from None

    def _get_chosen_invoices(self, access):
        """The open invoices of the link's customer that the form ticked;
        anything else (another customer's id, a closed invoice) is ignored."""
        ids = set()
        for value in request.httprequest.form.getlist("invoice_ids"):
            if value.isdigit():
                ids.add(int(value))
        return access._get_open_invoices().filtered(lambda move: move.id in ids)

    @staticmethod
    def _get_proof():
        upload = request.httprequest.files.get("proof")
        if not upload or not upload.filename:
            return None
        data = upload.read(PROOF_MAX_BYTES + 1)  # no need to read more to refuse it
        if not data:
            return None
        return upload.filename, data

    # === THE PAGE === #

    @http.route(
        "/reminder/<string:token>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        multilang=False,
        sitemap=False,
    )
    def reminder_page(self, token, done=None, **kwargs):
        access, state = self._get_access(token)
        if state != "valid":
            return self._render_expired(access, status=200)
        if not self._is_prefetch():
            access._note_seen()
        return self._render_page(access, done=done)

    @staticmethod
    def _is_prefetch():
        """A HEAD, or a browser's or mail scanner's prefetch: not the customer opening the page."""
        httprequest = request.httprequest
        if httprequest.method == "HEAD":
            return True
        purposes = " ".join(httprequest.headers.get(name, "") for name in PREFETCH_HEADERS).lower()
        return "prefetch" in purposes or "preview" in purposes

    @http.route(
        "/reminder/<string:token>/promise", type="http", auth="public", methods=["POST"], website=True, multilang=False
    )
    def reminder_promise(self, token, date=None, amount=None, **kwargs):
        def action(access):
            promised = self._parse_date(date, _("The date"))
            request.env["account.payment.reminder.response"].sudo()._portal_promise(
                access, promised, self._parse_amount(amount)
            )

        return self._handle_post(token, "promise", action)

    @http.route(
        "/reminder/<string:token>/plan", type="http", auth="public", methods=["POST"], website=True, multilang=False
    )
    def reminder_plan(self, token, count=None, frequency=None, **kwargs):
        def action(access):
            response = (
                request.env["account.payment.reminder.response"]
                .sudo()
                ._portal_plan(access, self._parse_int(count), frequency)
            )
            return "plan" if response.plan_id.state == "active" else "plan_pending"

        return self._handle_post(token, "plan", action)

    @http.route(
        "/reminder/<string:token>/report", type="http", auth="public", methods=["POST"], website=True, multilang=False
    )
    def reminder_report(self, token, kind=None, note=None, payment_date=None, reference=None, **kwargs):
        def action(access):
            if kind not in ("paid", "dispute"):
                raise UserError(_("Choose one of the options offered."))
            moves = self._get_chosen_invoices(access)
            request.env["account.payment.reminder.response"].sudo()._portal_report(
                access,
                kind,
                moves,
                note=note,
                payment_date=self._parse_date(payment_date, _("The payment date")) if kind == "paid" else None,
                reference=reference,
                proof=self._get_proof() if kind == "paid" else None,
            )
            return kind

        return self._handle_post(token, kind, action)

    @http.route(
        "/reminder/<string:token>/preferences",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        multilang=False,
    )
    def reminder_preferences(self, token, preferred=None, **kwargs):
        optouts = {channel: kwargs.get(f"optout_{channel}") == "on" for channel, _label in CHANNELS}

        def action(access):
            request.env["account.payment.reminder.response"].sudo()._portal_preferences(
                access, optouts, preferred or False
            )

        def only_quiets(access):
            """Turning a channel off is never rate-limited: the post turns one
            more channel off and nothing on (so a flood gets three at most)."""
            customer = access.partner_id
            current = {channel: customer[f"payment_reminder_optout_{channel}"] for channel in optouts}
            return (
                any(optouts[channel] and not current[channel] for channel in optouts)
                and not any(current[channel] and not optouts[channel] for channel in optouts)
                and (preferred or False) == customer.payment_reminder_preferred_channel
            )

        return self._handle_post(token, "preferences", action, unlimited=only_quiets)

    @http.route(
        "/reminder/<string:token>/unsubscribe",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        multilang=False,
    )
    def reminder_unsubscribe_page(self, token, **kwargs):
        """Where the e-mail's unsubscribe link lands: the preferences on the page."""
        access, state = self._get_access(token)
        if state != "valid":
            return self._render_expired(access, status=200)
        return request.redirect(f"/reminder/{token}#preferences")

    @http.route(
        "/reminder/<string:token>/unsubscribe",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def reminder_unsubscribe(self, token, **kwargs):
        """RFC 8058 one-click unsubscribe: the mail client posts
        ``List-Unsubscribe=One-Click`` without cookies (hence no CSRF token).
        It only ever turns e-mail reminders off, so an expired link still
        does it, and no rate limit stops it: it writes once, then nothing."""
        access, _state = self._get_access(token)
        if kwargs.get("List-Unsubscribe") != "One-Click":
            raise NotFound()
        customer = access.partner_id
        if not customer.payment_reminder_optout_email:
            optouts = {channel: customer[f"payment_reminder_optout_{channel}"] for channel, _label in CHANNELS} | {
                "email": True
            }
            request.env["account.payment.reminder.response"].sudo()._portal_preferences(
                access,
                optouts,
                customer.payment_reminder_preferred_channel,
                source=_("One-click unsubscribe from a reminder e-mail."),
            )
        return request.make_response(_("You will not receive payment reminders by e-mail any more."))

    @http.route(
        "/reminder/<string:token>/renew", type="http", auth="public", methods=["POST"], website=True, multilang=False
    )
    def reminder_renew(self, token, **kwargs):
        """An expired link: send a fresh one to the customer's address on file."""
        access, state = self._get_access(token)
        if state == "valid":
            return request.redirect(f"/reminder/{token}")
        if not access._check_post_rate():
            return self._render_expired(access, error=self._get_rate_error(access), status=429)
        if not access._may_send_new_link():
            return self._render_expired(access, done="new_link_sent", status=200)
        try:
            with request.env.cr.savepoint():
                access._send_new_link()
        except UserError as error:
            return self._render_expired(access, error=error.args[0], status=400)
        return self._render_expired(access, done="new_link", status=200)

    # === PAYMENTS === #

    @http.route(
        "/reminder/<string:token>/pay/<string:scope>/<int:record_id>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        multilang=False,
        sitemap=False,
    )
    def reminder_pay(self, token, scope, record_id, **kwargs):
        """Odoo's payment form for one invoice, all that is overdue, or the
        next instalment of a plan; the providers are the company's."""
        access, state = self._get_access(token)
        if state != "valid":
            return self._render_expired(access)
        try:
            moves, amount, currency, label = access._get_payment(scope, record_id)
        except UserError as error:
            return self._render_page(access, error=error.args[0], status=400)
        transaction = access._get_payment_in_progress(moves)
        if transaction:
            return self._render_page(access, error=access._get_payment_in_progress_message(transaction), status=409)
        partner, company = access.partner_id, access.company_id
        report = {}
        providers_sudo, payment_methods_sudo = self._get_payment_options(access, amount, currency, report=report)
        values = {
            "access": access,
            "res_company": company,
            "moves": moves,
            "label": label,
            # the payment form (payment.form): no saved cards for a link's holder, and none saved from here
            "amount": amount,
            "currency": currency,
            "partner_id": partner.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": request.env["payment.token"],
            "availability_report": report,
            "show_tokenize_input_mapping": dict.fromkeys(providers_sudo.ids, False),
            "transaction_route": f"/reminder/{token}/transaction/{scope}/{record_id}",
            "landing_route": f"/reminder/{token}?done=payment",
            "access_token": payment_utils.generate_access_token(partner.id, amount, currency.id),
        }
        return request.render("account_payment_reminder.portal_pay", values)

    @staticmethod
    def _get_payment_options(access, amount, currency, report=None):
        """``(providers, payment methods)`` the pay page offers for this
        amount: the link's company's, for its customer and currency."""
        partner, company = access.partner_id, access.company_id
        # sudo: providers and payment methods are read for a public visitor, as Odoo's payment pages do
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(company.id, partner.id, amount, currency_id=currency.id, report=report)
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(providers_sudo.ids, partner.id, currency_id=currency.id, report=report)
        )
        return providers_sudo, payment_methods_sudo

    @staticmethod
    def _check_payment_option(kwargs, providers_sudo, payment_methods_sudo):
        """Only a provider and a payment method that the pay page offered, and
        never a saved token: the page offers none."""
        provider_id, method_id = kwargs.get("provider_id"), kwargs.get("payment_method_id")
        provider_sudo = providers_sudo.filtered(lambda provider: provider.id == provider_id)
        offered = (
            type(provider_id) is int
            and type(method_id) is int
            and provider_sudo
            and payment_methods_sudo.filtered(lambda pm: pm.id == method_id and provider_sudo in pm.provider_ids)
            and kwargs.get("flow") in ("redirect", "direct")
            and not kwargs.get("token_id")
            and not kwargs.get("is_validation")
        )
        if not offered:
            raise ValidationError(_("Choose one of the payment methods offered on the page (reload it if needed)."))

    @http.route("/reminder/<string:token>/transaction/<string:scope>/<int:record_id>", type="json", auth="public")
    def reminder_transaction(self, token, scope, record_id, amount=None, csrf_token=None, access_token=None, **kwargs):
        """Create the payment transaction of what ``reminder_pay`` showed:
        the amount and the invoices are the server's, never the browser's;
        the provider and the method are among those the page offered; and
        no second payment of the same invoices starts while one is under way."""
        access, state = self._get_access(token)
        if state != "valid":
            raise ValidationError(_("This link has expired."))
        if not request.validate_csrf(csrf_token):
            raise ValidationError(_("Your session has expired: reload the page."))
        if not access._check_post_rate():
            raise ValidationError(self._get_rate_error(access))
        try:
            amount = self._parse_json_amount(amount)
            moves, amount_due, currency, _label = access._get_payment(scope, record_id)
        except UserError as error:
            raise ValidationError(error.args[0]) from None
        if currency.compare_amounts(amount, amount_due):
            raise ValidationError(_("The amount due has changed: reload the page."))
        self._validate_transaction_kwargs(kwargs)
        self._check_payment_option(kwargs, *self._get_payment_options(access, amount_due, currency))
        try:
            access._lock_payment(moves)
        except UserError as error:
            raise ValidationError(error.args[0]) from None
        partner = access.partner_id
        kwargs.update(
            tokenization_requested=False,
            landing_route=f"/reminder/{token}?done=payment",
        )
        tx_sudo = self._create_transaction(
            amount=amount_due,
            currency_id=currency.id,
            partner_id=partner.id,
            custom_create_values={"invoice_ids": [Command.set(moves.ids)], "company_id": access.company_id.id},
            **kwargs,
        )
        request.env["account.payment.reminder.response"].sudo()._portal_payment(access, tx_sudo, moves)
        return tx_sudo._get_processing_values()
