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


CONSOLE_BACKENDS = ("tollgate.mail.EmailBackend", "django.core.mail.backends.console.EmailBackend")
NOT_CONFIGURED = "Mail is not configured (EMAIL_URL)"


def mail_goes_to_log() -> bool:
    """Whether an e-mail only reaches the server's log (no EMAIL_URL: the console backend), so a page must not say it
    was e-mailed."""
    from django.conf import settings

    return settings.EMAIL_BACKEND in CONSOLE_BACKENDS


def email_url_check(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """`check --deploy`: without EMAIL_URL a production server writes invitations and notifications to its log, and
    nobody receives them (the settings fall back to the console silently)."""
    from django.conf import settings
    from django.core import checks

    if settings.DEBUG or not mail_goes_to_log():
        return []
    return [checks.Warning(
        "EMAIL_URL is not set: invitations, password resets and notifications are written to the server log "
        "instead of being e-mailed.",
        hint="Set EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587 (README, Production).",
        id="tollgate.W001")]
