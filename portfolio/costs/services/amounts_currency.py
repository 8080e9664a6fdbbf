"""The currency the database's amounts are in (portfolio.models.AmountsCurrency), so that changing
settings.REPORTING_CURRENCY on a database that holds amounts cannot relabel them silently.

Amounts are stored as plain numbers and shown with the setting's currency. migrate records the setting's currency
(post_migrate, every time): on a database that holds no amount it follows the setting, so a fresh database takes
whatever currency is set; once amounts exist it stays, and the system check portfolio.E001 (portfolio.costs.checks)
refuses to start, at migrate, runserver and `manage.py check`, while the setting differs. Tollgate does not convert
stored amounts; when they really are in the setting's currency already (entered so while the setting said another),
an operator records that with `manage.py amounts_currency --relabel`, audited.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from portfolio.costs.selectors import amounts_exist
from portfolio.models import AmountsCurrency, reporting_currency
from tollgate.audit import audit_event
from tollgate.types import Actor

logger = logging.getLogger(__name__)


@transaction.atomic
def amounts_currency_record() -> AmountsCurrency:
    """Record the setting's currency as the amounts' when nothing is recorded yet (a fresh database, or one upgraded
    to this version: its amounts were written under the setting in force), or when the database holds no amount
    (nothing to mislabel). Once amounts exist a different setting changes nothing here: the check refuses it."""
    setting = reporting_currency()
    recorded = AmountsCurrency.objects.select_for_update().filter(pk=1).first()
    if recorded is None:
        return AmountsCurrency.objects.create(pk=1, code=setting)
    if recorded.code != setting and not amounts_exist():
        logger.info("amounts currency follows REPORTING_CURRENCY on a database without amounts",
                    extra={"from": recorded.code, "to": setting})
        recorded.code = setting
        recorded.save(update_fields=["code", "recorded_at"])
    return recorded


def amounts_currency_on_migrate(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate: record the amounts' currency, once the table exists (not when migrating back before it)."""
    if using != DEFAULT_DB_ALIAS:
        return
    if AmountsCurrency._meta.db_table not in connections[using].introspection.table_names():
        return
    amounts_currency_record()


@transaction.atomic
def amounts_currency_relabel(*, actor: Actor | None, source: str) -> AmountsCurrency:
    """The amounts already stored are in the setting's currency (they were entered so while the setting said
    another): record it, converting nothing. For an operator who knows; audited, with the currency before and after."""
    setting = reporting_currency()
    recorded, _ = AmountsCurrency.objects.select_for_update().get_or_create(pk=1, defaults={"code": setting})
    before = recorded.code
    if before != setting:
        recorded.code = setting
        recorded.save(update_fields=["code", "recorded_at"])
        audit_event(recorded, actor=actor, event="amounts_currency_recorded", changes={"code": [before, setting]},
                    source=source, reason=f"The stored amounts are in {setting} already: relabelled, not converted.")
    return recorded
