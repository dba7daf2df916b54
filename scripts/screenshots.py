#!/usr/bin/env python3
"""Take the README's screenshots again, from the demo, with headless Chromium.

The demo is brought up as scripts/demo.py does (a throw-away PostgreSQL cluster,
the addon with its demo data, one scheduler run); a customer then disputes an
invoice on its page, and Chromium, logged in as a copy of the administrator
speaking each language (screenshots_<lang> / screenshots), photographs the
Credit Control overview and its cash forecast, a customer's collection card, the overview's days
sales outstanding on a phone, the Send Reminder wizard on invoices of several
customers, the dry run (What Would Go Now), and the customer's page after the
dispute (on a phone, in the customer's language); and the first page of a
printed reminder letter (letter.png, with poppler's pdftoppm).

Usage: python3 scripts/screenshots.py [--lang en_US,fr_FR] [--out static/description/screenshots]
Writes <screen>_<lang>.png, each under 200 KB (reduced to 256 colours when larger).
Needs Chromium (chromium, chromium-browser or google-chrome) and websocket-client.
"""

import argparse
import base64
import io
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap
import odoo_env

import demo

MAX_BYTES = 200_000
DESKTOP = (1440, 900)
PHONE = (412, 915)

# After the demo's scheduler run: a customer disputes an invoice on its page (as the page's form does), in each
# language shown; what the screenshots need is printed as one JSON line.
PREPARE = r"""
import json
env = env(context=dict(env.context, lang="en_US"))
ref = env.ref
Move = env["account.move"]
Access = env["account.payment.reminder.access"]

def open_invoices(partner):
    return Move.search(
        [("partner_id", "=", partner.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
         ("payment_state", "not in", ("paid", "reversed"))],
        order="invoice_date_due, id",
    )

disputes = {
    # the customer's language: (customer, what it reports about its oldest open invoice)
    "en_US": ("partner_marina_demo", "The delivery note shows 3 boxes, the invoice 4."),
    "fr_FR": ("partner_lumen_demo", "Livraison incomplète : il manque deux lampes."),
}
pages = {}
for lang, (xmlid, note) in disputes.items():
    partner = ref(f"account_payment_reminder.{xmlid}")
    access = Access.search([("partner_id", "=", partner.id)], limit=1)
    if not access:
        continue
    # sudo: as the page's controller does for the public customer
    Response = env["account.payment.reminder.response"].sudo()
    Response._portal_report(access, "dispute", open_invoices(partner)[:1], note=note)
    pages[lang] = access.url
wizard_customers = ("partner_marina_demo", "partner_batik_demo", "partner_copacabana_demo", "partner_harbor_demo",
                    "partner_dispute_demo")
invoices = Move.browse()
for xmlid in wizard_customers:
    invoices |= open_invoices(ref(f"account_payment_reminder.{xmlid}"))
# the web client speaks its user's language: one copy of the administrator per language shown
admin = ref("base.user_admin")
for lang in LANGS:
    login = f"screenshots_{lang}"
    user = env["res.users"].search([("login", "=", login)]) or admin.copy({"login": login, "name": admin.name})
    user.write({"lang": lang, "password": "screenshots", "tz": admin.tz})
env.cr.commit()
installed = [code for code, _name in env["res.lang"].get_installed()]
# how each customer pays, as the scheduler's daily refresh stores it, for the collection card
env["account.payment.reminder.behaviour"]._cron_refresh()
card = ref("account_payment_reminder.partner_marina_demo").id  # a dispute, messages, invoices of several ages
print("SCREENSHOTS " + json.dumps({"pages": pages, "invoices": invoices.ids, "installed": installed, "card": card}))
"""

LETTER = r"""
import base64
from odoo import Command
# wkhtmltopdf fetches the report's style sheets from the running server
env["ir.config_parameter"].set_param("report.url", BASE)
env = env(context=dict(env.context, lang="en_US"))
customer = env.ref("account_payment_reminder.partner_harbor_demo")
customer.write({"street": "12 Harbour Road", "zip": "SW1A 1AA", "city": "London", "country_id": env.ref("base.uk").id})
moves = env["account.move"].search(
    [("commercial_partner_id", "=", customer.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
     ("payment_state", "not in", ("paid", "reversed"))]
)
level = env.ref("account_payment_reminder.level_final")
message = env["account.payment.reminder.message"].create({
    "company_id": moves[:1].company_id.id, "partner_id": customer.id, "recipient_partner_id": customer.id,
    "move_ids": [Command.set(moves.ids)], "policy_id": level.policy_id.id, "level_id": level.id,
    "channel": "letter", "recipient": customer._payment_reminder_postal_address()[0],
    "idempotency_key": "screenshots:letter", "trigger": "manual",
})
message._render_contents()
print("LETTER " + base64.b64encode(message.attachment_ids[:1].raw or b"").decode())
env.cr.rollback()
"""


def take_letter(odoo, base, out, workdir):
    """The first page of a printed letter (the demo's final notice to Harbor
    Supply Co), at 60 dpi: letter.png."""
    shell = subprocess.run(
        odoo("--no-http", subcommand="shell"), input=f"BASE = {base!r}\n" + LETTER, text=True, capture_output=True
    )
    line = next((line for line in shell.stdout.splitlines() if line.startswith("LETTER ")), "LETTER ")
    pdf = base64.b64decode(line.split(" ", 1)[1])
    if not pdf:
        print("No letter: is wkhtmltopdf installed?", shell.stderr[-2000:], flush=True)
        return
    (workdir / "letter.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", workdir / "letter.pdf", out / "letter"],
        check=True,
    )


class Chromium:
    """Headless Chromium driven over the DevTools protocol (one tab)."""

    def __init__(self, profile):
        import websocket  # noqa: PLC0415 - websocket-client is only needed here

        binary = next(
            (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)),
            None,
        )
        if not binary:
            raise odoo_env.SetupError("Chromium was not found (chromium, chromium-browser or google-chrome).")
        port = odoo_env._free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-allow-origins=*",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        targets = self._wait_json(f"http://127.0.0.1:{port}/json/list")
        page = next(target for target in targets if target["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120, suppress_origin=True)
        self.next_id = 0
        self.send("Page.enable")
        self.send("Runtime.enable")

    @staticmethod
    def _wait_json(url, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return json.load(response)
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, condition, timeout=90, settle=1.5):
        """Wait until the JavaScript ``condition`` holds, then for animations to end."""
        deadline = time.time() + timeout
        while not self.evaluate(f"!!({condition})"):
            if time.time() > deadline:
                raise TimeoutError(f"Waited {timeout}s for {condition}")
            time.sleep(0.3)
        time.sleep(settle)

    def goto(self, url, ready="document.readyState === 'complete'"):
        self.send("Page.navigate", url=url)
        time.sleep(0.5)
        self.wait_for(ready, settle=0.5)

    def viewport(self, size, mobile=False):
        width, height = size
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            height = self.evaluate("document.documentElement.scrollHeight")
            width = self.evaluate("document.documentElement.clientWidth")
            params.update(
                captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            )
        data = base64.b64decode(self.send("Page.captureScreenshot", **params)["data"])
        if len(data) > MAX_BYTES:
            from PIL import Image  # noqa: PLC0415 - Pillow comes with Odoo

            image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            data = buffer.getvalue()
        path.write_bytes(data)
        print(f"  {path} ({len(data) // 1000} KB)", flush=True)

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def backend_ready(selector):
    """The web client is idle and shows ``selector``."""
    return (
        f"document.querySelector({json.dumps(selector)}) && !document.querySelector('.o_loading_indicator, .o_blockUI')"
    )


def do_action(xmlid, context=None):
    """Run an action of the web client, as a menu or a button would."""
    options = json.dumps({"additionalContext": context or {}})
    return f"odoo.__WOWL_DEBUG__.root.env.services.action.doAction({json.dumps(xmlid)}, {options}).then(() => true)"


def login(browser, base, user, password):
    browser.goto(f"{base}/web/login")
    browser.evaluate(
        f"document.querySelector('#login').value = {json.dumps(user)};"
        f"document.querySelector('#password').value = {json.dumps(password)};"
        "document.querySelector('form.oe_login_form').submit(); true"
    )
    time.sleep(1)
    browser.wait_for(backend_ready(".o_main_navbar"))


def take(browser, base, out, lang, prepared):
    browser.goto(f"{base}/web/session/logout")
    login(browser, base, f"screenshots_{lang}", "screenshots")
    browser.viewport(DESKTOP)
    print(f"{lang}:", flush=True)

    browser.goto(f"{base}/odoo/action-account_payment_reminder.account_payment_reminder_credit_control_action")
    browser.wait_for(backend_ready(".o_apr_credit_control canvas"), settle=2.5)
    loaded = browser.evaluate(
        "performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/translations/'))"
    )
    if not any(f"lang={lang}" in url for url in loaded):
        raise RuntimeError(f"The web client did not load {lang}: {loaded}")
    browser.screenshot(out / f"overview_{lang}.png")
    # the cash to expect over the next 13 weeks, lower on the overview
    browser.wait_for(backend_ready(".o_apr_credit_control .o_apr_forecast .o_apr_forecast_week"), settle=1)
    browser.evaluate("document.querySelector('.o_apr_forecast').scrollIntoView({block: 'start'}); true")
    time.sleep(1)
    browser.screenshot(out / f"forecast_{lang}.png")

    # the collection card of a customer, as the overview's row opens it
    browser.evaluate(
        "odoo.__WOWL_DEBUG__.root.env.services.orm"
        f".call('res.partner', 'action_open_payment_reminder_card', [[{prepared['card']}]])"
        ".then((action) => odoo.__WOWL_DEBUG__.root.env.services.action.doAction(action)).then(() => true)"
    )
    browser.wait_for(backend_ready(".o_apr_collection_card .o_apr_card_balance"), settle=1.5)
    browser.screenshot(out / f"collection_card_{lang}.png")

    # days sales outstanding and overdue by month, on a phone
    browser.viewport(PHONE, mobile=True)
    browser.goto(f"{base}/odoo/action-account_payment_reminder.account_payment_reminder_credit_control_action")
    browser.wait_for(backend_ready(".o_apr_credit_control .o_apr_dso canvas"), settle=1)
    browser.evaluate("document.querySelector('.o_apr_dso').scrollIntoView({block: 'start'}); true")
    time.sleep(2)
    browser.screenshot(out / f"dso_phone_{lang}.png")
    browser.viewport(DESKTOP)

    browser.goto(f"{base}/odoo/action-account.action_move_out_invoice_type")
    browser.wait_for(backend_ready(".o_list_view .o_data_row"))
    browser.evaluate(
        do_action(
            "account_payment_reminder.account_payment_reminder_send_action_open",
            {"active_model": "account.move", "active_ids": prepared["invoices"]},
        )
    )
    browser.wait_for(backend_ready(".modal .o_field_widget[name=line_ids] .o_data_row"), settle=2)
    browser.screenshot(out / f"send_wizard_{lang}.png")

    browser.goto(f"{base}/odoo/action-account.action_move_out_invoice_type")
    browser.wait_for(backend_ready(".o_list_view .o_data_row"))
    browser.evaluate(do_action("account_payment_reminder.account_payment_reminder_dry_run_action"))
    browser.wait_for(backend_ready(".o_form_view .o_field_widget[name=line_ids] .o_data_row"), settle=2)
    browser.screenshot(out / f"dry_run_{lang}.png")

    page = prepared["pages"].get(lang)
    if page:
        # as the customer sees it: not logged in
        browser.goto(f"{base}/web/session/logout")
        browser.viewport(PHONE, mobile=True)
        browser.goto(base + urllib.parse.urlsplit(page).path)
        browser.wait_for("document.querySelector('#apr_statement')", settle=1)
        browser.screenshot(out / f"customer_page_dispute_{lang}.png", full_page=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="en_US,fr_FR", help="the languages to take the screens in")
    parser.add_argument("--out", default=str(odoo_env.ROOT / "static/description/screenshots"))
    bootstrap.add_arguments(parser)
    args = parser.parse_args()
    bootstrap.ensure(args, __file__)

    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    # a termination signal cleans up like Ctrl-C does: Odoo, Chromium, the cluster and the work folder go
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="apr-shots-"))
    port = odoo_env._free_port()
    browser = None
    try:
        with odoo_env.throwaway_cluster() as cluster:

            def odoo(*extra, subcommand=None):
                return odoo_env.odoo_command(
                    src, cluster, workdir, "-d", demo.DB, "--log-level=warn", *extra, subcommand=subcommand
                )

            print(f"Installing {odoo_env.ADDON} with demo data...", flush=True)
            subprocess.run(
                odoo(
                    "-i", demo.ADDONS, f"--load-language={demo.LANGUAGES}", "--stop-after-init", "--max-cron-threads=0"
                ),
                check=True,
            )
            log = workdir / "demo-summary.txt"
            with log.open("w") as summary:
                subprocess.run(
                    odoo("--no-http", subcommand="shell"), input=demo.SUMMARY, text=True, stdout=summary, check=True
                )
            shell = subprocess.run(
                odoo("--no-http", subcommand="shell"),
                input=f"LANGS = {args.lang.split(',')!r}\n" + PREPARE,
                text=True,
                capture_output=True,
                check=True,
            )
            line = next(line for line in shell.stdout.splitlines() if line.startswith("SCREENSHOTS "))
            prepared = json.loads(line.split(" ", 1)[1])
            server = subprocess.Popen(
                odoo(
                    f"--http-port={port}",
                    "--http-interface=127.0.0.1",
                    f"--db-filter=^{demo.DB}$",
                    "--max-cron-threads=0",
                ),
                stdout=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                deadline = time.time() + 120
                while True:
                    try:
                        urllib.request.urlopen(f"{base}/web/login", timeout=10).close()
                        break
                    except OSError:
                        if time.time() > deadline:
                            raise
                        time.sleep(1)
                take_letter(odoo, base, out, workdir)
                browser = Chromium(workdir / "chromium")
                print(f"Languages installed: {', '.join(prepared['installed'])}", flush=True)
                for lang in args.lang.split(","):
                    take(browser, base, out, lang, prepared)
            finally:
                # Odoo and Chromium stop before the cluster does
                if browser:
                    browser.close()
                server.terminate()
                server.wait(timeout=30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(odoo_env.main_guard(main))
