"""The e-mail backend of a machine without EMAIL_URL: the messages are written to standard error.

Django's console backend writes them to standard output, where they came before the JSON of a command such as
`compute_signals --json` (its new signals notify their owners), so an operator's script could not parse it. On
standard error they still show in the terminal and in the server's log.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.mail.backends import console


class EmailBackend(console.EmailBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)
