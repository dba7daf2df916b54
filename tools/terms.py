"""Sentences kept untranslated, to be read later in the reader's language.

A reason is written once (by the scheduler, a webhook) and read by people of
several languages: the history keeps the sentence's source and parameters as
plain JSON, and each screen renders them in its user's language, as Odoo's
``mail.mail`` keeps a failure type and shows its label."""

from odoo.tools.translate import LazyGettext, get_translation


def to_terms(value):
    """``value`` as JSON that :func:`render_terms` reads: a lazy translation
    (``_lt``, possibly with lazy or terms parameters) as ``{"module",
    "source", "args"}``; terms as they are; anything else as its text (a
    sentence already translated stays in its language)."""
    if isinstance(value, LazyGettext):
        args = value._args
        if isinstance(args, dict):
            args = {key: to_terms(arg) for key, arg in args.items()}
        else:
            args = [to_terms(arg) for arg in args]
        return {"module": value._module, "source": value._source, "args": args}
    if value is None or isinstance(value, (dict, int, float)):
        return value
    return str(value)


def with_detail(reason, detail=None, sentence=False):
    """Terms of ``reason`` followed by the provider's own words (untranslated,
    unless the reason already quotes them); ``sentence``: ends with a period."""
    return {"reason": to_terms(reason), "detail": detail, "sentence": sentence}


def joined(reasons):
    """Several reasons as one, each kept untranslated and told once (None
    when there is none)."""
    parts = []
    for reason in reasons:
        terms = to_terms(reason)
        if terms and terms not in parts:
            parts.append(terms)
    return {"parts": parts} if len(parts) > 1 else (parts[0] if parts else None)


def render_terms(terms, lang):
    """The text of ``terms`` (see :func:`to_terms`) in ``lang``."""
    if not isinstance(terms, dict):
        return terms
    if "parts" in terms:
        return "; ".join(render_terms(part, lang) for part in terms["parts"])
    if "reason" in terms:
        text = render_terms(terms["reason"], lang) or ""
        detail = terms.get("detail")
        if detail and detail not in text:
            text = f"{text} ({detail})"
        return text.rstrip(".") + "." if terms.get("sentence") else text
    args = terms.get("args") or ()
    if isinstance(args, dict):
        args = {key: render_terms(arg, lang) for key, arg in args.items()}
    else:
        args = tuple(render_terms(arg, lang) for arg in args)
    return get_translation(terms["module"], lang or "en_US", terms["source"], args)
