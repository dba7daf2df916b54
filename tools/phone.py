"""Phone numbers for WhatsApp and SMS, through Odoo's phone_validation."""

import phonenumbers

from odoo.exceptions import UserError

from odoo.addons.phone_validation.tools.phone_validation import phone_parse

MESSAGING_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def messaging_number(number, country_code=None):
    """Validate a number that should receive WhatsApp or SMS messages.

    :param number: the number as typed by a user
    :param country_code: ISO code of the customer's country, the default region
        for numbers written without their international prefix
    :return: ``(e164, None)`` or ``(None, reason)``
    """
    if not number or not number.strip():
        return None, "missing"
    try:
        parsed = phone_parse(number.strip(), country_code or None)
    except UserError as error:
        return None, str(error.args[0])
    if phonenumbers.number_type(parsed) not in MESSAGING_TYPES:
        return None, "not_mobile"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None
