"""The one HTTP call the provider clients make, with the network's failures
turned into transient provider errors."""

import requests

from odoo.tools.translate import LazyTranslate

from ..exceptions import ReminderProviderError

_lt = LazyTranslate(__name__, default_lang="en_US")


def call(provider, method, url, timeout, **kwargs):
    """``requests.request`` with a timeout; returns ``(response, JSON answer
    or {})``. A timeout or a connection error raises a transient
    ReminderProviderError naming ``provider``; HTTP errors are the caller's."""
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as error:
        raise ReminderProviderError(
            _lt("%(provider)s did not answer in time.", provider=provider), code="timeout", transient=True
        ) from error
    except requests.RequestException as error:
        raise ReminderProviderError(
            _lt("%(provider)s could not be reached.", provider=provider),
            detail=str(error),
            code="connection",
            transient=True,
        ) from error
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    return response, answer
