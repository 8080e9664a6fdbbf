from __future__ import annotations

from typing import Any

from portfolio.management.commands._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Reset all access attempts and lockouts (each unlock is in the audit trail)"

    def handle(self, *args: Any, **options: Any) -> None:
        self.unlock()
