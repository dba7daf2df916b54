"""The figures, outside Odoo: one table of what each phase measured, with the targets,
then where the time goes and the SQL that repeats with each message sent."""

TARGET_DECISION_100K = 10.0  # seconds for 100,000 open invoices
TARGET_RATE = 50.0  # reminders per second, end to end
TARGET_VS_CREDIT_CONTROL = 18.0  # the decision, times faster than account_credit_control's credit lines
TARGET_VS_OVERDUE_REMINDER = 10.0  # customers reminded per second, times account_invoice_overdue_reminder's
TARGET_QUERIES_PER_MESSAGE = 10.0  # SQL queries of the whole run, per message sent


def per_10k(value, invoices):
    return value * 10000 / invoices if invoices else 0.0


class Table:
    """Rows of (label, value, target), and rules between groups of rows."""

    def __init__(self):
        self.rows = []

    def row(self, label, value, target=""):
        self.rows.append((label, value, target))

    def rule(self):
        self.rows.append(None)

    def print(self, title):
        width = max(len(line[0]) for line in self.rows if line)
        value_width = min(60, max(len(line[1]) for line in self.rows if line))
        print()
        print("=" * 120)
        print(title)
        print("=" * 120)
        for line in self.rows:
            if line is None:
                print("-" * 120)
                continue
            label, value, target = line
            print(f"{label:<{width}}  {value:<{value_width}}  {target}".rstrip())
        print("=" * 120)


def report(args, results):
    """The compact table of figures, with the targets."""
    build, decide, send = (results[key] for key in ("build", "decide", "send"))
    t = Table()
    data_rows(t, results, build)
    decision_rows(t, decide)
    if results.get("learner"):
        learner_rows(t, results["learner"])
    customer_rate, per_message = send_rows(t, send)
    credit_control_rows(t, results, decide)
    overdue_rows(t, results, customer_rate)
    queued = results.get("queue_job")
    if queued:
        queue_rows(t, queued, customer_rate)
    elif results.get("queue_job_skipped"):
        t.row("queue_job mode", f"skipped: {results['queue_job_skipped']}")
    behaviour_rows(t, results.get("behaviour"))
    where_rows(t, decide, send, per_message)
    t.print(f"Payment reminder benchmark: {args.customers:,} customers, {args.invoices:,} invoices")


def learner_rows(t, learner):
    """The decision with the learnt hour and channel off and on (medians of runs in turns)."""
    for label, title in (("no_history", "no history"), ("history", f"{learner['planted']:,} messages of history")):
        off, on = learner[label]["off"], learner[label]["on"]
        slower = (on["median"] / off["median"] - 1) * 100 if off["median"] else 0.0
        t.row(
            f"Learner: decision, {title}",
            f"off {off['median']:.3f} s / {off['queries']} q, on {on['median']:.3f} s / {on['queries']} q"
            f" ({slower:+.0f} %)",
            "<= +15 %: OK" if slower <= 15 else "> +15 %: MISSED",
        )


def data_rows(t, results, build):
    t.row("Setup: install the addon", f"{results['install']} s")
    timings = build["timings"]
    t.row(
        "Data: customers / invoices",
        f"{build['customers']:,} / {build['templates'] + build['copies']:,}"
        f" ({build['templates']} through the ORM, {build['copies']:,} SQL copies)",
    )
    credits = dict(build["credits"])
    t.row(
        "Data: customers with open credits",
        f"{credits.pop('customers'):,} (" + ", ".join(f"{k} {v}" for k, v in credits.items()) + ")",
    )
    if build.get("bank_lines"):
        t.row(
            "Data: bank lines not reconciled yet",
            ", ".join(f"{kind} {count}" for kind, count in build["bank_lines"].items()),
        )
    t.row(
        "Data: build time",
        f"{sum(timings.values()):.1f} s (" + ", ".join(f"{k} {v}s" for k, v in timings.items()) + ")",
    )


def decision_rows(t, decide):
    opened = decide["open_invoices"]
    projected = decide["seconds"] * 100000 / opened if opened else 0.0
    verdict = "OK" if projected < TARGET_DECISION_100K else "MISSED"
    t.row("Decision: open invoices / customers", f"{opened:,} / {decide['customers']:,}")
    t.row("Decision: batches (customers per batch)", f"{decide['batches']} ({decide['batch_size']})")
    t.row(
        "Decision: total time / SQL queries",
        f"{decide['seconds']:.2f} s / {decide['queries']:,} (SQL {decide['sql_seconds']:.2f} s)",
        load(decide),
    )
    every_run(t, "Decision", decide)
    t.row(
        "Decision: per 10,000 open invoices",
        f"{per_10k(decide['seconds'], opened):.2f} s / {per_10k(decide['queries'], opened):,.0f} queries",
    )
    t.row(
        "Decision: queries per batch",
        f"{decide['queries'] / max(decide['batches'], 1):.1f}",
        "grows with batches, not invoices",
    )
    t.row(
        "Decision: projected for 100,000 open invoices",
        f"{projected:.1f} s",
        f"< {TARGET_DECISION_100K:.0f} s: {verdict}",
    )
    if "seconds_without_money_on_its_way" in decide:
        on, off = decide["seconds_with_money_on_its_way"], decide["seconds_without_money_on_its_way"]
        t.row(
            "Decision: with / without money on its way (best of 2)",
            f"{on:.2f} s / {off:.2f} s ({(on / (off or 1e-9) - 1) * 100:+.1f} %),"
            f" {decide['on_its_way_groups']} groups held",
            "target <= +10 %",
        )
    t.row("Decision: groups", ", ".join(f"{k} {v}" for k, v in sorted(decide["groups"].items())))
    t.row(
        "Decision: memory (RSS peak / tracemalloc peak)", f"{decide['rss_peak_mb']} MB / {decide['traced_peak_mb']} MB"
    )
    t.row(
        "Decision: traced memory after 1st / last batch",
        f"{decide['traced_first_batch_mb']} MB / {decide['traced_last_batch_mb']} MB",
        flat_verdict([decide["traced_first_batch_mb"], decide["traced_last_batch_mb"]]),
    )


def every_run(t, label, figures):
    """The time of each run of a phase measured more than once (the best is the one shown)."""
    if figures.get("runs"):
        times = ", ".join(f"{seconds:.2f} s" for seconds in figures["runs"])
        t.row(f"{label}: every run, in turns", times, f"best of {len(figures['runs'])} kept")


def send_rows(t, send):
    """The full run's rows; returns (customers reminded per second, SQL queries per message)."""
    sent = send["stats"].get("sent", 0)
    rate = sent / send["seconds"] if send["seconds"] else 0.0
    customer_rate = send["customers_reminded"] / send["seconds"] if send["seconds"] else 0.0
    t.row(
        "Send: messages queued / sent / failed",
        f"{send['stats'].get('queued', 0):,} / {sent:,} / {send['stats'].get('failed', 0):,}",
    )
    t.row(
        "Send: run time / SQL queries",
        f"{send['seconds']:.1f} s / {send['queries']:,} (SQL {send['sql_seconds']:.1f} s)",
        load(send),
    )
    every_run(t, "Send", send)
    t.row(
        "Send: reminders per second (end to end)",
        f"{rate:.1f}/s",
        f">= {TARGET_RATE:.0f}/s: {'OK' if rate >= TARGET_RATE else 'MISSED'}",
    )
    t.row(
        "Send: customers reminded / invoices covered",
        f"{send['customers_reminded']:,} / {send['invoices_covered']:,}",
        "invoices: listed in the messages sent",
    )
    t.row(
        "Send: customers / invoices per second (end to end)",
        f"{customer_rate:.1f}/s / {send['invoices_covered'] / (send['seconds'] or 1):.1f}/s",
    )
    per_message = send["queries"] / sent if sent else 0.0
    t.row(
        "Send: SQL queries per message sent",
        f"{per_message:.1f}",
        f"<= {TARGET_QUERIES_PER_MESSAGE:.0f}: {'OK' if 0 < per_message <= TARGET_QUERIES_PER_MESSAGE else 'MISSED'}",
    )
    t.row("Send: chatter notes / activities", f"{send['chatter_notes']:,} / {send['activities']:,}")
    memory = f"{send['rss_before_mb']} MB -> {send['rss_peak_mb']} MB"
    if send.get("traced_peak_mb"):
        memory += f" (tracemalloc peak {send['traced_peak_mb']} MB)"
    t.row("Send: RSS of the Odoo process, before -> peak", memory)
    by_batch = send.get("rss_by_batch_mb") or []
    if by_batch:
        t.row(
            "Send: RSS after 1st / 2nd / last batch",
            f"{by_batch[0]} / {by_batch[min(1, len(by_batch) - 1)]} / {by_batch[-1]} MB ({len(by_batch)} batches)",
            flat_verdict(by_batch[1:] or by_batch),
        )
    traced = send.get("traced_by_batch_mb") or []
    if traced:
        t.row(
            "Send: traced memory after 1st / last batch",
            f"{traced[0]} / {traced[-1]} MB",
            flat_verdict(traced),
        )
        for line in send.get("traced_growth") or []:
            t.row("Send: traced growth, 1st -> last batch", line)
    return customer_rate, per_message


def credit_control_rows(t, results, decide):
    credit_control = results.get("credit_control")
    if credit_control:
        ratio = credit_control["seconds"] / (decide["seconds"] or 1e-9)
        t.row("OCA credit control: install", f"{results['credit_control_install']} s")
        t.row(
            "OCA credit control: generate_credit_lines()",
            f"{credit_control['seconds']:.1f} s / {credit_control['queries']:,} queries"
            f" -> {credit_control['lines']:,} credit lines",
            load(credit_control),
        )
        every_run(t, "OCA credit control", credit_control)
        t.row(
            "OCA credit control: RSS before -> peak",
            f"{credit_control['rss_before_mb']} -> {credit_control['rss_peak_mb']} MB",
        )
        t.row(
            "Decision vs credit control's credit lines",
            f"{ratio:.1f}x faster ({decide['seconds']:.2f} s vs {credit_control['seconds']:.1f} s)",
            f">= {TARGET_VS_CREDIT_CONTROL:.0f}x: {'OK' if ratio >= TARGET_VS_CREDIT_CONTROL else 'MISSED'}",
        )
    else:
        t.row("OCA account_credit_control", f"skipped: {results.get('credit_control_skipped')}")


def overdue_rows(t, results, customer_rate):
    overdue = results.get("overdue_reminder")
    if overdue:
        seconds = overdue["seconds"] or 1e-9
        peer_rate = overdue["customers_reminded"] / seconds
        ratio = customer_rate / (peer_rate or 1e-9)
        t.row("OCA overdue reminder: install", f"{results['overdue_reminder_install']} s")
        t.row(
            "OCA overdue reminder: propose + validate",
            f"{overdue['seconds']:.1f} s ({overdue['propose_seconds']:.1f} s + {overdue['validate_seconds']:.1f} s)"
            f" / {overdue['queries']:,} queries",
            load(overdue),
        )
        every_run(t, "OCA overdue reminder", overdue)
        t.row(
            "OCA overdue reminder: steps / e-mails / customers / invoices",
            f"{overdue['steps']:,} / {overdue['mails']:,} / {overdue['customers_reminded']:,}"
            f" / {overdue['invoices_covered']:,} (+ {overdue['credit_notes_listed']:,} credit notes listed)",
        )
        t.row(
            "OCA overdue reminder: customers / invoices per second",
            f"{peer_rate:.1f}/s / {overdue['invoices_covered'] / seconds:.1f}/s",
        )
        t.row("OCA overdue reminder: RSS before -> peak", f"{overdue['rss_before_mb']} -> {overdue['rss_peak_mb']} MB")
        t.row(
            "Customers reminded per second vs overdue reminder",
            f"{ratio:.1f}x ({customer_rate:.1f}/s vs {peer_rate:.1f}/s)",
            f">= {TARGET_VS_OVERDUE_REMINDER:.0f}x: {'OK' if ratio >= TARGET_VS_OVERDUE_REMINDER else 'MISSED'}",
        )
    else:
        t.row("OCA account_invoice_overdue_reminder", f"skipped: {results.get('overdue_reminder_skipped')}")


def where_rows(t, decide, send, per_message):
    """Where the time goes, and the SQL that repeats with each message sent."""
    t.rule()  # a rule, then where the time goes
    for phase, figures in (("Decision", decide), ("Send", send)):
        total = figures["seconds"] or 1
        for label, (calls, seconds, queries) in figures.get("sections", {}).items():
            share = f"{100 * seconds / total:.0f}% of the phase (inclusive)"
            t.row(f"{phase}: in {label}", f"{seconds:.2f} s, {queries:,} queries, {calls:,} calls", share)
        for shape, queries, seconds in figures.get("top_queries", []):
            t.row(f"{phase}: SQL {seconds:.2f} s in {queries:,} x", shape)
    if send.get("per_message"):
        t.rule()  # the SQL that repeats with each message sent
        total = 0.0
        for text, queries, each, seconds in send["per_message"]:
            total += each
            t.row(f"Per message: {each:.2f} x ({queries:,}, {seconds:.2f} s)", text[:160])
        t.row(
            "Per message: the queries above, per message sent",
            f"{total:.1f} of {per_message:.1f}",
            "the rest: once per batch, run or chunk of messages",
        )


def queue_rows(t, queued, cron_rate):
    """The queue_job mode: the scheduler enqueues, then 1 and 2 job workers send."""
    t.row("queue_job: install (with the addon)", f"{queued['install']} s")
    for run in queued["runs"]:
        workers = run["workers"]
        enqueue, work = run["enqueue"], run["work"]
        label = f"queue_job, {workers} worker{'s' if workers > 1 else ''}"
        if not enqueue["jobs"]:
            t.row(f"{label}: no job to run", enqueue["note"])
            continue
        seconds = enqueue["seconds"] + work["seconds"]
        rate = work["customers_reminded"] / seconds if seconds else 0.0
        t.row(
            f"{label}: scheduler run (decide, enqueue)",
            f"{enqueue['seconds']:.1f} s / {enqueue['queries']:,} queries -> {enqueue['jobs']:,} jobs"
            f" on {', '.join(enqueue['channels'])}",
            load(enqueue),
        )
        t.row(
            f"{label}: jobs done / failed / left",
            f"{work['done']:,} / {work['failed']:,} / {work['left']:,} in {work['seconds']:.1f} s"
            f" ({work['queries']:,} queries)",
            load(work),
        )
        t.row(
            f"{label}: customers reminded per second",
            f"{rate:.1f}/s ({work['customers_reminded']:,} customers, {work['messages_sent']:,} messages)",
            f"cron alone: {cron_rate:.1f}/s",
        )


def load(figures):
    """The machine's load around a phase (1-minute average before -> after)."""
    before, after = figures.get("load") or (None, None)
    return f"load {before} -> {after}" if before is not None else ""


def flat_verdict(values, tolerance=0.10):
    """Whether memory stayed flat across batches: the last value within 10 %,
    or within 20 MB, of the first."""
    if len(values) < 2:
        return "one batch: cannot tell"
    first, last = values[0], values[-1]
    if last <= first * (1 + tolerance) or last - first < 20:
        return "flat across batches: OK"
    per_batch = (last - first) / (len(values) - 1)
    return f"grows by {per_batch:.1f} MB per batch: MISSED"


def behaviour_rows(t, behaviour):
    """The customers' behaviour refresh, the decision with it, the overview with its forecast (issue 20)."""
    if not behaviour:
        return
    t.rule()
    t.row(
        "Behaviour: refresh (rows / time / queries)",
        f"{behaviour['behaviour_rows']:,} / {behaviour['refresh_seconds']:.2f} s / {behaviour['refresh_queries']}",
    )
    t.row(
        "Decision with the behaviour in place (before)",
        f"{behaviour['decide_with_behaviour_seconds']:.2f} s ({behaviour['decide_before_seconds']:.2f} s):"
        f" {behaviour['decide_slowdown_pct']:+.1f} %",
        "target <= +15 %",
    )
    t.row(
        "Overview with the forecast (forecast alone)",
        f"{behaviour['overview_seconds']:.2f} s, {behaviour['overview_queries']} queries"
        f" ({behaviour['forecast_seconds_in_overview']:.2f} s)",
        "target < 2 s",
    )
