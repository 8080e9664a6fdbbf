"""Log filters: a refused request (403) or a missing page (404) is one line in the server log, never a traceback."""

from __future__ import annotations

import logging


class RefusalsInOneLine(logging.Filter):
    """Django logs a PermissionDenied or Http404 with the exception's traceback attached; a refusal is expected
    behaviour (the role matrix says who may do what), so keep the message and drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True
