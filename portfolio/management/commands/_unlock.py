"""The operators' unlock commands, under django-axes' own names, arguments and output (`settings.py` lists axes after
Tollgate's apps so that these answer to the names): each unlock goes through login_lock_clear, so it is in the audit
trail like an unlock in the admin, with the source "command" (a command has no signed-in actor)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.management.base import BaseCommand

from portfolio.selectors import login_attempts
from portfolio.services import login_lock_clear


class UnlockCommand(BaseCommand):
    def unlock(self, *, ip_addresses: Iterable[str] | None = None, usernames: Iterable[str] | None = None) -> None:
        count = login_lock_clear(actor=None, attempts=login_attempts(ip_addresses=ip_addresses, usernames=usernames),
                                 source="command")
        self.stdout.write(f"{count} attempts removed." if count else "No attempts found.")
