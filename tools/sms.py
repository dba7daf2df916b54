"""SMS encoding and segment count (3GPP TS 23.038), plain Python.

A message that fits the GSM-7 alphabet costs 160 characters in one segment and
153 per segment once split; a single character outside it (a French ``ç``, a
typographic apostrophe) turns the whole message into UCS-2: 70 and 67 UTF-16
units. Characters of the GSM-7 extension table (``€ [ ] { } ~ ^ | \\`` and form
feed) take two septets and are never split across two segments.
"""

from collections import namedtuple

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# typographic characters and their GSM-7 look-alikes (what Twilio's Smart Encoding does)
GSM_REPLACEMENTS = {
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u2032": "'",  # ′
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2212": "-",  # −
    "\u2026": "...",  # …
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",  # thin space
    "\u2022": "-",  # •
    "\u00b4": "'",  # ´
    "\u02bc": "'",  # ʼ
}

SegmentInfo = namedtuple("SegmentInfo", ["encoding", "segments", "units"])


def first_non_gsm_char(text):
    """The first character that forces UCS-2, or None when GSM-7 fits."""
    for char in text or "":
        if char not in _BASIC and char not in _EXTENSION:
            return char
    return None


def segment_info(text):
    """Encoding, number of segments and number of encoded units of an SMS.

    :return: ``SegmentInfo(encoding, segments, units)`` where ``encoding`` is
        ``"GSM-7"`` or ``"UCS-2"`` and ``units`` counts septets (GSM-7,
        extension characters count two) or UTF-16 code units (UCS-2)
    """
    text = text or ""
    if first_non_gsm_char(text) is None:
        sizes = [2 if char in _EXTENSION else 1 for char in text]
        return SegmentInfo("GSM-7", _count_segments(sizes, GSM7_SINGLE, GSM7_MULTI), sum(sizes))
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]  # astral characters are surrogate pairs
    return SegmentInfo("UCS-2", _count_segments(sizes, UCS2_SINGLE, UCS2_MULTI), sum(sizes))


def _count_segments(sizes, single, multi):
    """Pack characters of the given unit sizes into segments, never splitting
    a character (an escape pair, a surrogate pair) across two segments."""
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def to_gsm(text):
    """Replace typographic quotes, dashes and spaces with their GSM-7 equivalents."""
    return "".join(GSM_REPLACEMENTS.get(char, char) for char in text or "")
