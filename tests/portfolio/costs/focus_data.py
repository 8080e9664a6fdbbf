"""Deterministic FOCUS CSV exports for the tests of the column-wise reader and of months read in parts: AI and other
rows, tags by project, values that need care (JSON quotes in a resource id, blank descriptions, amounts with more
than six decimals, a consumed quantity missing so the pricing one is used)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

HEADER = [
    "BillingAccountId", "BillingCurrency", "ChargePeriodStart", "ChargeDescription", "BilledCost", "EffectiveCost",
    "ServiceCategory", "ServiceSubcategory", "ServiceName", "ProviderName", "SubAccountId", "ResourceId",
    "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "Tags", "x_Model",
]
PROJECTS = ("search", "support", "fraud", "orphan")  # the tests map the first three; "orphan" stays unallocated
AI_SERVICES = (("Azure OpenAI", "Generative AI", "gpt-4o"), ("Amazon SageMaker", "Machine Learning", ""),
               ("Vertex AI", "AI Platforms", "gemini-2.5-flash"))


def focus_row(n: int, month: str = "2025-06") -> list[str]:
    """Row n of the export: every third row is not AI spend; the values vary with n only."""
    project = PROJECTS[n % len(PROJECTS)]
    tags = json.dumps({"project": project, "env": "prod" if n % 2 else "dev"}) if n % 11 else ""
    amount = f"{(n % 97) * 0.0371 + 0.0000005:.7f}"
    if n % 3 == 2:
        return ["acct-1", "USD", f"{month}-{n % 28 + 1:02d}T00:00:00Z", "VM", amount, amount, "Compute",
                "Virtual Machines", "EC2", "AWS", "sub-1", f"i-{n}", "1", "Hours", "1", "Hours", tags, ""]
    service, subcategory, model = AI_SERVICES[n % len(AI_SERVICES)]
    resource = f'/res/{n % 13}"q' if n % 50 == 0 else f"/res/{n % 13}"
    consumed = "" if n % 7 == 0 else f"{n % 40}.5"
    return ["acct-2", "USD", f"{month}-{n % 28 + 1:02d}T{n % 24:02d}:00:00Z", "" if n % 5 == 0 else f"call {n % 9}",
            amount, amount, "AI and Machine Learning", subcategory, service, "Microsoft", f"sub-{n % 4}", resource,
            consumed, "1000 Tokens", f"{n % 30}", "Requests", tags, model]


def write_focus(path: Path, numbers: range, *, bad: dict[int, tuple[str, str]] | None = None) -> None:
    """A FOCUS CSV of rows `numbers`; `bad` replaces, in row n, a column's value ({n: (column, value)})."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in numbers:
            row = focus_row(n)
            if bad and n in bad:
                column, value = bad[n]
                row[HEADER.index(column)] = value
            writer.writerow(row)


def write_parts(folder: Path, rows: int, parts: int, **kwargs: dict[int, tuple[str, str]]) -> list[Path]:
    """The same `rows` rows split over `parts` files part-1.csv ... part-N.csv (bad values by part: part3={...})."""
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-rows // parts)
    paths = []
    for number in range(1, parts + 1):
        path = folder / f"part-{number}.csv"
        write_focus(path, range((number - 1) * size, min(number * size, rows)), bad=kwargs.get(f"part{number}"))
        paths.append(path)
    return paths
