"""Opt-out and opt-in keywords of inbound SMS and WhatsApp replies, in the
languages the addon ships (English, French, Spanish, Portuguese, Indonesian),
and the one rule for opting out: the keyword alone, as carriers count it, or
a sentence that plainly asks to stop the messages. A false opt-out is the
worst mistake a reader can make (the customer hears nothing more on that
channel), so a sentence counts only when it names the messages or the
sending, never for a mere "stop" inside other words."""

import re
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


STOP_PHRASES = r"""
    \b(?:please\s+)?(?:stop|quit|cease)\s+(?:sending|messaging|texting|emailing|e-mailing|contacting|writing|spamming)
  | \bstop\s+(?:these|the|your|all\s+(?:the|these|your))
        \s+(?:messages|reminders|texts|sms|emails|e-mails|whatsapps?)\s*[.!]*$
  | \b(?:do\s+not|don'?t|never)\s+(?:send|text|message|email|e-mail|contact)\s+(?:me|us)\s+(?:again|anymore|any\s+more)
  | \bunsubscribe\s+me | \bremove\s+(?:me|us|my\s+number|my\s+e-?mail)\s+from | \bopt\s*(?:me\s+)?out
  | \b(?:arretez|arrete|cessez)\s+(?:de\s+)?(?:m'|nous\s+)?(?:envoyer|ecrire|contacter|relancer|harceler)
  | \bne\s+(?:plus|pas)\s+(?:m'|nous\s+)?(?:envoyer|ecrire|contacter)\b.*\b(?:messages?|sms|mails?|relances?)?
  | \bne\s+(?:me\s+|nous\s+|m')(?:contactez|ecrivez|envoyez)\s+plus | \bje\s+ne\s+veux\s+plus\s+recevoir
  | \bdesabonnez | \b(?:dejen|deja|dejad|paren|para)\s+de\s+(?:enviar|mandar|escribir|contactar|molestar)
  | \bno\s+(?:me|nos)\s+(?:envien|manden|escriban|contacten|mandes|envies)\s+mas | \bno\s+quiero\s+recibir\s+mas
  | \bdarme\s+de\s+baja | \bdenme\s+de\s+baja
  | \b(?:parem|pare|para)\s+de\s+(?:enviar|mandar|me\s+mandar|me\s+enviar|escrever|ligar|incomodar)
  | \bnao\s+(?:me\s+)?(?:enviem|mandem|mande|envie)\s+mais | \bnao\s+quero\s+(?:mais\s+)?receber | \bme\s+descadastr
  | \b(?:tolong\s+)?(?:berhenti|stop)\s+(?:kirim|mengirim|sms|chat|menghubungi)
  | \bjangan\s+(?:kirim|mengirim|hubungi|sms|chat)\w*(?:\s+\w+){0,2}?\s+(?:lagi|terus)
  | \btidak\s+mau\s+(?:lagi\s+)?menerima
"""
STOP_PHRASES_RE = re.compile(STOP_PHRASES, re.VERBOSE | re.IGNORECASE)


def asks_to_stop(text):
    """True when the customer asks to receive no more messages: the keyword
    alone ("STOP", "arrête", "berhenti") or a sentence that says so ("please
    stop sending me these", "para de enviar"). The caller decides first
    whether the words say something else (paid, a promise): a customer who
    paid and asks us to stop wants the reminders to stop, not the channel."""
    if classify(text) == "stop":
        return True
    plain = normalize(text).lower().replace("\u2019", "'")
    return bool(STOP_PHRASES_RE.search(plain))


def classify(text):
    """``"stop"``, ``"start"`` or None for an inbound message. Only a message
    that is the keyword alone counts, as carriers do."""
    word = normalize(text)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None
