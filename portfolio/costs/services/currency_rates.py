"""Currency rates: the admin-maintained table that turns billing currencies into the reporting currency.

A rate applies from its `valid_from` day until the next rate of the same currency. Saving a rate converts the cost
records already read in that currency and window again and recomputes their months' roll-ups, so the reports follow
the table; one explicit audit row says what changed and how many records moved, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portfolio.costs.calculations import RateTable, record_amount
from portfolio.dashboard.providers import data_changed
from portfolio.models import CostRecord, CurrencyRate
from tollgate.audit import audit_event
from tollgate.roles import may
from tollgate.types import Actor

RATE_FIELDS = ("currency", "valid_from", "rate_to_reporting")
UPDATE_CHUNK = 2_000


@dataclass(frozen=True)
class RateChange:
    """What a rate write did: the rate, how many cost records were converted again, and their months."""

    rate: CurrencyRate
    records: int = 0
    months: set[date] = field(default_factory=set)


def _ensure_may(actor: Actor | None, action: str) -> None:
    if actor is not None and not may(actor, f"portfolio.{action}_currencyrate"):
        raise PermissionDenied("Only administrators maintain currency rates.")


def _validate(rate: CurrencyRate) -> None:
    """The model's own checks (CurrencyRate.clean: above 0, not the reporting currency), with one message per field."""
    rate.currency = (rate.currency or "").strip().upper()
    errors: dict[str, str] = {}
    try:
        rate.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            if name == "__all__" and any("already exists" in m for m in messages):
                name, messages = "valid_from", [f"{rate.currency} already has a rate from {rate.valid_from}; "
                                                "edit that one instead."]
            errors.setdefault(name, " ".join(messages))
    if errors:
        raise ValidationError(errors)


def _window(currency: str, valid_from: date) -> tuple[date, date | None]:
    """Days a rate starting `valid_from` covers: up to the next rate of the currency (None: open-ended)."""
    following = (CurrencyRate.objects.filter(currency=currency, valid_from__gt=valid_from)
                 .order_by("valid_from").values_list("valid_from", flat=True).first())
    return valid_from, following


def _reconvert(currency: str, windows: list[tuple[date, date | None]]) -> tuple[int, set[date]]:
    """Convert the cost records of `currency` charged in `windows` with the rates now in the table."""
    from portfolio.costs.services.rollups import rollups_recompute

    rates = RateTable(list(CurrencyRate.objects.filter(currency=currency).values_list("valid_from",
                                                                                     "rate_to_reporting")))
    changed: list[CostRecord] = []
    months: set[date] = set()
    for start, end in windows:
        records = CostRecord.objects.filter(currency=currency, charge_date__gte=start)
        if end is not None:
            records = records.filter(charge_date__lt=end)
        for record in records.only("pk", "amount", "charge_date", "period", "amount_reporting", "gpu_cost",
                                   "gpu_cost_reporting").iterator(chunk_size=5_000):
            rate = rates.rate_on(record.charge_date)
            if rate is None:
                continue  # no rate covers it any more: it keeps the amount it was read with
            converted = record_amount(record.amount * rate)
            gpu = None if record.gpu_cost is None else record_amount(record.gpu_cost * rate)
            if converted != record.amount_reporting or gpu != record.gpu_cost_reporting:
                record.amount_reporting, record.gpu_cost_reporting = converted, gpu
                changed.append(record)
                months.add(record.period)
    CostRecord.objects.bulk_update(changed, ["amount_reporting", "gpu_cost_reporting"], batch_size=UPDATE_CHUNK)
    if months:
        rollups_recompute(months=months)
    data_changed()
    return len(changed), months


def _check_still_converted(currency: str, *, field: str) -> None:
    """Refuse (naming the months) a change leaving records of `currency` charged before its first rate: their amount
    in the reporting currency would come from a rate no longer in the table, and a new read of them would fail. A
    missing rate is an error, never a kept conversion."""
    first = (CurrencyRate.objects.filter(currency=currency).order_by("valid_from")
             .values_list("valid_from", flat=True).first())
    stranded = CostRecord.objects.filter(currency=currency)
    if first is not None:
        stranded = stranded.filter(charge_date__lt=first)
    months = sorted(stranded.order_by().values_list("period", flat=True).distinct())
    if months:
        count = stranded.count()
        records = f"{count:,} {currency} cost record{'s' if count != 1 else ''}"
        listed = ", ".join(f"{month:%Y-%m}" for month in months)
        left = f"the first {currency} rate would be from {first}" if first else f"no {currency} rate would be left"
        raise ValidationError({field: f"{records} of {listed} would be left without a rate ({left}): add a rate "
                                      "covering them first."})


def _values(rate: CurrencyRate) -> dict[str, str]:
    return {"currency": rate.currency, "valid_from": rate.valid_from.isoformat(),
            "rate_to_reporting": format(Decimal(rate.rate_to_reporting).normalize(), "f")}


@transaction.atomic
def currency_rate_create(
    *, actor: Actor | None, currency: str, valid_from: date, rate_to_reporting: Decimal
) -> RateChange:
    """A new rate: 1 `currency` = `rate_to_reporting` of the reporting currency from `valid_from` on."""
    _ensure_may(actor, "add")
    rate = CurrencyRate(currency=currency, valid_from=valid_from, rate_to_reporting=rate_to_reporting)
    _validate(rate)
    with disable_auditlog():  # the explicit row below carries the re-conversion too
        rate.save()
    records, months = _reconvert(rate.currency, [_window(rate.currency, rate.valid_from)])
    audit_event(rate, actor=actor, event="currency_rate_created", action=LogEntry.Action.CREATE,
                changes={name: [None, value] for name, value in _values(rate).items()},
                records_converted=records, months_recomputed=sorted(f"{m:%Y-%m}" for m in months))
    return RateChange(rate, records, months)


@transaction.atomic
def currency_rate_update(*, actor: Actor | None, rate: CurrencyRate, **values: Any) -> RateChange:
    """Change a rate's currency, first day and/or value; records of the old and the new window are converted."""
    _ensure_may(actor, "change")
    unknown = set(values) - set(RATE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown rate field(s): {', '.join(sorted(unknown))}.")
    stored = CurrencyRate.objects.select_for_update().get(pk=rate.pk)
    before = _values(stored)
    old_currency, old_window = stored.currency, _window(stored.currency, stored.valid_from)
    for name, value in values.items():
        setattr(stored, name, value)
    _validate(stored)
    after = _values(stored)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return RateChange(stored)
    with disable_auditlog():
        stored.save()
    if old_currency != stored.currency or stored.valid_from > old_window[0]:
        _check_still_converted(old_currency, field="currency" if old_currency != stored.currency else "valid_from")
    records, months = _reconvert(stored.currency, [_window(stored.currency, stored.valid_from)])
    if old_currency != stored.currency or old_window[0] != stored.valid_from:
        # The old window now falls to the currency's previous rate.
        previous = (CurrencyRate.objects.filter(currency=old_currency, valid_from__lt=old_window[0])
                    .order_by("-valid_from").values_list("valid_from", flat=True).first())
        more, more_months = _reconvert(old_currency, [old_window] if previous is not None else [])
        records, months = records + more, months | more_months
    audit_event(stored, actor=actor, event="currency_rate_changed", action=LogEntry.Action.UPDATE, changes=changes,
                records_converted=records, months_recomputed=sorted(f"{m:%Y-%m}" for m in months))
    return RateChange(stored, records, months)
