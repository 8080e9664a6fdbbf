"""Log filters: a refused request (403) or a missing page (404) is one line in the server log, never a traceback; every
line carries the id of its request or task."""

from __future__ import annotations

import logging

from tollgate.request_id import current_request_id


class RefusalsInOneLine(logging.Filter):
    """Django logs a PermissionDenied or Http404 with the exception's traceback attached; a refusal is expected
    behaviour (the role matrix says who may do what), so keep the message and drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True


class RequestId(logging.Filter):
    """Puts the id of the request or Celery task being handled on every record (None outside of one), for the JSON
    lines (LOG_FORMAT=json) and any format that names %(request_id)s."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True
