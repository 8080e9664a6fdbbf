"""A deterministic FOCUS 1.2 cost export of N rows for one month, streamed to disk (never held in memory)."""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

COLUMNS = [
    "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription", "BilledCost",
    "EffectiveCost", "ListCost", "ContractedCost", "ServiceCategory", "ServiceSubcategory", "ServiceName",
    "ProviderName", "PublisherName", "InvoiceIssuerName", "SubAccountId", "SubAccountName", "ResourceId",
    "ResourceName", "RegionId", "SkuId", "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "Tags",
    "x_Model",
]
AI_SERVICES = [
    ("Azure OpenAI", "Generative AI", "gpt-4o"), ("Amazon Bedrock", "Generative AI", "claude-sonnet-4"),
    ("Vertex AI", "AI Platforms", "gemini-2.5-flash"), ("Amazon SageMaker", "Machine Learning", ""),
    ("Azure Machine Learning", "Machine Learning", ""), ("Amazon Comprehend", "Natural Language Processing", ""),
]
OTHER_SERVICES = [
    ("Compute", "Virtual Machines", "Amazon Elastic Compute Cloud"), ("Storage", "Object Storage", "Amazon S3"),
    ("Databases", "Relational Databases", "Amazon RDS"), ("Networking", "Network Connectivity", "Azure VPN Gateway"),
    ("Analytics", "Data Processing", "Amazon EMR"), ("Management and Governance", "Observability", "CloudWatch"),
]
PROJECTS = [f"project-{i:02d}" for i in range(25)]  # the first 20 have allocation rules; 5 stay unallocated
AI_SHARE = 0.3
PERIOD = "2026-09"


def generate(path: Path, rows: int, seed: int = 20260901) -> None:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(rows):
            day = 1 + n % 30
            hour = rng.randrange(24)
            account = f"{rng.randrange(10**11, 10**12)}"
            project = PROJECTS[rng.randrange(len(PROJECTS))]
            tags = json.dumps({"project": project, "env": rng.choice(("prod", "dev"))})
            if rng.random() < AI_SHARE:
                service, subcategory, model = AI_SERVICES[rng.randrange(len(AI_SERVICES))]
                category = "AI and Machine Learning"
                unit = "1000 Tokens" if model else "Hours"
            else:
                category, subcategory, service = OTHER_SERVICES[rng.randrange(len(OTHER_SERVICES))]
                model, unit = "", "Hours"
            quantity = round(rng.uniform(0.1, 500), 4)
            cost = round(quantity * rng.uniform(0.001, 0.05), 6)
            writer.writerow([
                "8611-2201", "Northwind EA", "USD", f"{PERIOD}-01T00:00:00Z", "2026-10-01T00:00:00Z",
                f"{PERIOD}-{day:02d}T{hour:02d}:00:00Z", f"{PERIOD}-{day:02d}T{hour:02d}:59:59Z", "Usage", "",
                f"{service} usage", cost, cost, cost, cost, category, subcategory, service, "Microsoft", "Microsoft",
                "Microsoft", account, f"sub-{account[-4:]}", f"/subscriptions/{account}/resources/r{n % 5000}",
                f"r{n % 5000}", "eastus", f"SKU{n % 997}", quantity, unit, quantity, unit, tags, model,
            ])


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
