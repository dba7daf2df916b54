"""What Twilio posts to the webhooks (form parameters), checked (no ORM)."""

from ..webhook import MalformedPayload, check_text


def twilio_values(params, *names):
    """The single string value of each parameter in ``names`` ("" when
    absent). Twilio sends each once: a repeated one is malformed."""
    values = []
    for name in names:
        value = params.get(name)
        if isinstance(value, list):
            if len(value) != 1:
                raise MalformedPayload(f"{name} is repeated")
            value = value[0]
        values.append(check_text(value, name))
    return values
