"""Opt-out and opt-in keywords of inbound SMS and WhatsApp replies, in the
languages the addon ships (English, French, Spanish, Portuguese, Indonesian)."""

import unicodedata

STOP_WORDS = {
    # English (Twilio's defaults and the FCC's examples)
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT OUT", "REVOKE",
    # French
    "ARRET", "ARRETE", "ARRETER", "STOPPER", "DESABONNER", "DESINSCRIRE",
    # Spanish
    "BAJA", "PARAR", "DETENER", "CANCELAR", "ALTO",
    # Portuguese
    "SAIR", "PARE", "DESCADASTRAR", "CANCELE",
    # Indonesian
    "BERHENTI", "HENTIKAN", "BATAL", "KELUAR",
}  # fmt: skip
START_WORDS = {"START", "UNSTOP", "DEMARRER", "REPRENDRE", "ALTA", "INICIAR", "VOLTAR", "MULAI"}


def normalize(text):
    """Upper case, no accents, no surrounding punctuation or spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.upper().strip(" \t\r\n.!?¡¿,;:'\"").split())


def classify(text):
    """``"stop"``, ``"start"`` or None for an inbound message. Only a message
    that is the keyword alone counts, as carriers do."""
    word = normalize(text)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None
