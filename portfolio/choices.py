"""Enumerations of the portfolio domain, in the business's words."""

from django.db import models

from tollgate.formatting import money_label
from tollgate.jobs import RunStatus as RunStatus  # the statuses every run shares; imported from here across the apps


class Stage(models.TextChoices):
    """Lifecycle of an initiative (PRODUCT.md). Governed transitions come with the governance app."""

    PROPOSED = "proposed", "Proposed"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    PILOT = "pilot", "Pilot"
    PRODUCTION = "production", "Production"
    RETIRED = "retired", "Retired"
    REJECTED = "rejected", "Rejected"
    KILLED = "killed", "Killed"


# Stages in which an initiative is running and spending money.
ACTIVE_STAGES = (Stage.APPROVED, Stage.PILOT, Stage.PRODUCTION)
# Stages of the intake, before and at its review's decision: only the review (governance transitions) moves an
# initiative into, within or out of them; an inventory import refuses to (portfolio.services.inventory_import).
INTAKE_STAGES = (Stage.PROPOSED, Stage.IN_REVIEW, Stage.CHANGES_REQUESTED, Stage.REJECTED)
# Stages in which an initiative has ended: it is read-only from then on (portfolio.services refuse every edit).
ENDED_STAGES = (Stage.RETIRED, Stage.REJECTED, Stage.KILLED)


class Category(models.TextChoices):
    """Use-case category of an initiative."""

    CONVERSATIONAL_ASSISTANT = "conversational_assistant", "Conversational assistant"
    CONTENT_GENERATION = "content_generation", "Content generation"
    DOCUMENT_PROCESSING = "document_processing", "Document processing"
    SEARCH_AND_KNOWLEDGE = "search_and_knowledge", "Search and knowledge"
    CLASSIFICATION = "classification", "Classification"
    FORECASTING = "forecasting", "Forecasting"
    ANOMALY_DETECTION = "anomaly_detection", "Anomaly detection"
    PERSONALIZATION = "personalization", "Personalization"
    ANALYTICS_INSIGHTS = "analytics_insights", "Analytics insights"
    CODE_ASSISTANT = "code_assistant", "Code assistant"
    COMPUTER_VISION = "computer_vision", "Computer vision"
    SPEECH_AND_AUDIO = "speech_and_audio", "Speech and audio"
    TRANSLATION = "translation", "Translation"
    AGENTIC_AUTOMATION = "agentic_automation", "Agentic automation"
    OTHER = "other", "Other"


class ModelTier(models.TextChoices):
    FRONTIER = "frontier", "Frontier"
    MID = "mid", "Mid"
    SMALL = "small", "Small"
    EMBEDDING = "embedding", "Embedding"
    OTHER = "other", "Other"


class KpiDirection(models.TextChoices):
    """Whether a higher or a lower actual is an improvement."""

    INCREASE = "increase", "Higher is better"
    DECREASE = "decrease", "Lower is better"


class KpiKind(models.TextChoices):
    """How a KPI turns into money in a value report (reviews.calculations.kpi_value)."""

    COUNT = "count", "Count (e.g. tickets deflected)"
    PER_OUTCOME = "per_outcome", "Per outcome (e.g. minutes per e-mail)"
    RATIO = "ratio", "Ratio or score (e.g. %, CSAT)"
    STATED = "stated", "Stated by the owner, with evidence"


# What `value_per_unit` means for each kind, for labels on pages and in the API (a stated KPI has none); the currency
# is the reporting one, read when the label is shown.
KPI_VALUE_PER_UNIT_LABELS: dict[str, str] = {
    KpiKind.COUNT: money_label("value per unit"),
    KpiKind.PER_OUTCOME: money_label("value per unit per outcome"),
    KpiKind.RATIO: money_label("value per point"),
    KpiKind.STATED: "",
}


class RunTrigger(models.TextChoices):
    USER = "user", "User (page)"
    COMMAND = "command", "Command line"
    API = "api", "API"
    SCHEDULE = "schedule", "Schedule"


# Cost and usage ingestion (issue 5) ----------------------------------------------------------------------------------


class SourceType(models.TextChoices):
    """Kinds of cost source; the values are the keys of portfolio.costs.connectors.registry.CONNECTORS."""

    FOCUS = "focus", "FOCUS billing export"
    OPENAI = "openai", "OpenAI organisation costs and usage"
    ANTHROPIC = "anthropic", "Anthropic Admin API cost and usage"
    GITHUB_COPILOT = "github_copilot", "GitHub Copilot seats"
    M365_COPILOT = "m365_copilot", "Microsoft 365 Copilot usage report"
    OPENCOST = "opencost", "OpenCost allocation"
    CSV = "csv", "Plain CSV"


class RuleMatch(models.TextChoices):
    """How an allocation rule compares its value with a record's key."""

    EXACT = "exact", "Exact"
    PREFIX = "prefix", "Prefix"
    REGEX = "regex", "Regular expression"


class CostCategory(models.TextChoices):
    """The TCO split of PRODUCT.md; same values as portfolio.costs.connectors.base.CostCategory."""

    INFERENCE = "inference", "Inference / API"
    COMPUTE = "compute", "Compute / GPU"
    STORAGE = "storage", "Storage"
    LICENCES = "licences", "Licences"
    OVERSIGHT = "oversight", "Oversight"
    MAINTENANCE = "maintenance", "Maintenance"
    OTHER = "other", "Other"


class NotificationEmail(models.TextChoices):
    """How a person's notifications reach their mailbox (they are always on the Notifications page)."""

    EACH = "each", "Each as it happens"
    DAILY = "daily", "One e-mail a day"
    OFF = "off", "Never: the Notifications page only"
