from odoo import models
from odoo.http import request


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _serve_fallback(cls):
        """A path with a NUL byte names no attachment, and PostgreSQL refuses
        the byte in a query: a 404 of such a path (``/reminder/%00``) stays a
        404 instead of ending in a 500."""
        if "\x00" in request.httprequest.path:
            return None
        return super()._serve_fallback()
