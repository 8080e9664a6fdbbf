"""System checks of the cost domain, run by migrate, runserver and `manage.py check` (not by gunicorn or Celery,
which compose starts only after migrate succeeded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from portfolio.costs.selectors import amounts_currency_mismatch


def _database_missing() -> bool:
    """An SQLite file that does not exist yet (an image build, a checkout before `make setup`): asking would create
    an empty one."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite" or connection.is_in_memory_db():  # type: ignore[attr-defined]
        return False
    return not Path(str(connection.settings_dict["NAME"])).exists()


def amounts_currency_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """REPORTING_CURRENCY must be the currency the database's amounts are in (portfolio.models.AmountsCurrency):
    otherwise every stored amount would be shown in another currency without being converted. Not a database-tagged
    check, so that runserver and a plain `manage.py check` say it too; without a database to ask (none yet, not
    migrated, unreachable) there is nothing to say, and migrate records the currency."""
    if _database_missing():
        return []
    try:
        mismatch = amounts_currency_mismatch()
    except DatabaseError:
        return []
    if mismatch is None:
        return []
    recorded, setting = mismatch
    return [checks.Error(
        f"The amounts in this database are in {recorded}, but REPORTING_CURRENCY is {setting}: every stored amount "
        f"(declared costs, business cases, prices, cost records, roll-ups, currency rates) would be shown as {setting} "
        "without being converted.",
        hint=(f"Set REPORTING_CURRENCY={recorded} again. Tollgate does not convert stored amounts: to report in "
              f"{setting}, start a new database with REPORTING_CURRENCY={setting} and import into it. Only if the "
              f"stored amounts really are in {setting} already (entered so while the setting said {recorded}), run "
              "`python manage.py amounts_currency --relabel` to record that."),
        id="portfolio.E001",
    )]
