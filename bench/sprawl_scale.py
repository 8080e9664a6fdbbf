"""Benchmark: sprawl detection at scale on 10,000 generated initiatives.

    .venv/bin/python bench/sprawl_scale.py [--count 10000]

Writes the generated initiatives into a fresh SQLite database, then runs the real analysis twice: the first run
embeds every initiative (embedding rate, texts per second), the second reads the embedding cache and only scores and
groups (the "grouped once embeddings are cached" figure). Prints both, and the process's peak memory.
Targets (issue 6): grouping under 60 s, embedding at 100 texts/s or better, peak memory under 2 GiB.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_setup import django_on_throwaway_sqlite  # noqa: E402

JOBS = [
    ("draft replies to customer emails", "customer email reply drafting"),
    ("summarise meetings and list action items", "meeting notes"),
    ("generate images for campaigns and social posts", "campaign visuals"),
    ("extract fields from supplier invoices into the ERP", "invoice capture"),
    ("review contracts and flag risky clauses", "contract review"),
    ("answer employee questions about HR policies", "HR policy assistant"),
    ("forecast weekly demand per store and product", "demand forecast"),
    ("predict which customers will churn next quarter", "churn model"),
    ("suggest code completions in the IDE", "coding assistant"),
    ("translate product documentation into twelve languages", "documentation translation"),
    ("detect card fraud in real time", "fraud scoring"),
    ("correlate monitoring alerts into incidents", "alert correlation"),
    ("screen CVs against job requirements", "CV screening"),
    ("transcribe and score contact-centre calls for quality", "call QA"),
    ("inspect welds on the production line with cameras", "visual inspection"),
    ("predict machine failures from sensor data", "predictive maintenance"),
    ("answer questions over the engineering wiki", "wiki search"),
    ("write product descriptions for the web shop", "product copy"),
    ("optimise delivery routes for the truck fleet", "route planning"),
    ("classify incoming support tickets and route them", "ticket triage"),
]
OPENERS = ["We use AI to", "Pilot to", "Team wants to", "Automatically", "LLM service that will", "Tool to"]
BENEFITS = ["saving hours every week.", "to cut handling time.", "for the whole division.", "", "at lower cost.",
            "replacing a manual spreadsheet process."]
VENDORS = ["OpenAI", "Anthropic", "Microsoft", "Google", "AWS", "Cohere", "Mistral AI", "In-house"]
DEPARTMENTS = ["Sales", "Marketing", "Finance", "Legal", "Human Resources", "IT Operations", "Customer Service",
               "Supply Chain", "Manufacturing", "Logistics", "Retail Operations", "Research & Development"]
CODENAMES = ["Atlas", "Nimbus", "Falcon", "Orion", "Quill", "Beacon", "Harbor", "Sentinel", "Mosaic", "Vector"]


def generate(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        job, short = JOBS[rng.randrange(len(JOBS))]
        department = rng.choice(DEPARTMENTS)
        name = f"Project {rng.choice(CODENAMES)} {n}" if rng.random() < 0.25 else f"{department} {short} {n}"
        description = f"{rng.choice(OPENERS)} {job} {rng.choice(BENEFITS)}".strip()
        rows.append({"external_id": f"GEN-{n:05d}", "name": name, "description": description,
                     "department": department, "vendor": rng.choice(VENDORS)})
    return rows


OWNED = 3  # initiatives per owner


def create_portfolio(count: int) -> None:
    """Write `count` generated initiatives (with their departments, vendors and owners) in bulk. An owner has three
    initiatives, as in the labelled inventories (a shared owner is a pair feature: one owner for all would weigh every
    pair down and flatter the timing)."""
    from django.contrib.auth import get_user_model

    from portfolio.models import Department, Initiative, Vendor

    user = get_user_model()
    user.objects.bulk_create([user(username=f"bench-owner-{n}") for n in range(max(count // OWNED, 1))],
                             batch_size=1000)
    owners = list(user.objects.filter(username__startswith="bench-owner-").order_by("pk"))
    departments = {name: Department.objects.create(name=name, code=name[:10].lower().replace(" ", "-") + str(i))
                   for i, name in enumerate(DEPARTMENTS)}
    vendors = {name: Vendor.objects.create(name=name) for name in VENDORS}
    rows = generate(count)
    Initiative.objects.bulk_create(
        [Initiative(external_id=r["external_id"], name=r["name"], description=r["description"],
                    department=departments[r["department"]], owner=owners[n % len(owners)])
         for n, r in enumerate(rows)],
        batch_size=1000,
    )
    through = Initiative.vendors.through
    ids = dict(Initiative.objects.values_list("external_id", "pk"))
    through.objects.bulk_create(
        [through(initiative_id=ids[r["external_id"]], vendor_id=vendors[r["vendor"]].pk) for r in rows],
        batch_size=2000,
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    django_on_throwaway_sqlite("tollgate-sprawl-scale-")
    from django.core.management import call_command

    from governance.sprawl import analysis

    call_command("migrate", "--noinput", "-v", "0")
    create_portfolio(args.count)
    print(f"Sprawl at scale: {args.count:,} generated initiatives, {len(JOBS)} underlying jobs")

    started = time.perf_counter()
    analysis.catalogue_index(store=True)  # as the recomputation indexes it: the phrases stored, then read back
    catalogue_seconds = time.perf_counter() - started
    started = time.perf_counter()
    items = analysis._items(analysis._initiatives())
    analysis.purpose_vectors(items)
    embed_seconds = time.perf_counter() - started
    print(f"  catalogue indexed:              {catalogue_seconds:.1f}s")
    print(f"  embedding (first run):          {embed_seconds:.1f}s = {args.count / embed_seconds:,.0f} texts/s "
          "(target >= 100 texts/s; includes loading and storing)")

    started = time.perf_counter()
    result = analysis.analyse_portfolio()
    group_seconds = time.perf_counter() - started
    sizes = sorted((len(c.member_ids) for c in result.clusters), reverse=True)
    print(f"  grouping with cached embeddings: {group_seconds:.1f}s (target < 60 s): {len(result.clusters)} clusters, "
          f"largest {sizes[:5]}, top-5 duplicates for {len(result.duplicates):,} initiatives")
    print(f"  peak memory (max RSS):          {peak_rss_mib():,.0f} MiB (target < 2048 MiB)")


if __name__ == "__main__":
    main()
