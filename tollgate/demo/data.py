"""Northwind Mutual, the demo company: a mid-sized insurer in its third AI budget cycle.

Everything here is hand-written reference data plus templates of initiatives per department. `initiative_specs()`
expands the templates into 150+ initiatives with a seeded random generator and a fixed reference date, so two runs
(on two machines, on two days) produce exactly the same company. No ORM here: the builder turns specs into rows.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from portfolio.choices import Category, KpiDirection, ModelTier, Stage
from tollgate.roles import Role

COMPANY_NAME = "Northwind Mutual"
EMAIL_DOMAIN = "northwind-demo.com"
DEMO_PASSWORD = "tollgate-demo"
# Everything is dated relative to this day, never to today: the demo must not drift.
REFERENCE_DATE = date(2026, 10, 1)
SEED = 42
EXTERNAL_ID_PREFIX = "NW-"


def email(local_part: str) -> str:
    return f"{local_part}@{EMAIL_DOMAIN}"


# --- People -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    department: str | None  # a Department.key below
    title: str
    role: Role
    username: str | None = None  # only the demo logins have a username and a usable password
    superuser: bool = False

    @property
    def email(self) -> str:
        local = f"{self.first_name}.{self.last_name}".lower().replace("'", "").replace(" ", "")
        return email(local)


DEMO_LOGINS = (
    Person("Ada", "Admin", "it", "FinOps platform lead", Role.ADMIN, username="admin", superuser=True),
    Person("Rita", "Reviewer", "data", "AI Centre of Excellence reviewer", Role.REVIEWER, username="reviewer"),
    Person("Evelyn", "Executive", "fin", "Chief Financial Officer", Role.EXECUTIVE, username="executive"),
    Person("Oscar", "Owner", "cs", "Digital Service Product Manager", Role.OWNER, username="owner"),
)

PEOPLE = (
    # Department heads
    Person("Grace", "Okafor", "cs", "VP Customer Service", Role.OWNER),
    Person("Daniel", "Reyes", "claims", "Chief Claims Officer", Role.OWNER),
    Person("Helen", "Whitaker", "uw", "Chief Underwriting Officer", Role.OWNER),
    Person("Sofia", "Marchetti", "mkt", "Chief Marketing Officer", Role.OWNER),
    Person("Marcus", "Bell", "sales", "Head of Sales & Distribution", Role.OWNER),
    Person("Anika", "Sharma", "eng", "VP Engineering", Role.OWNER),
    Person("Lars", "Eriksen", "data", "Chief Data Officer", Role.OWNER),
    Person("Nadia", "Haddad", "hr", "Chief People Officer", Role.OWNER),
    Person("Jonathan", "Pryce", "legal", "General Counsel", Role.OWNER),
    Person("Rosa", "Delgado", "ops", "Head of Policy Operations", Role.OWNER),
    Person("Kwame", "Mensah", "it", "Chief Information Officer", Role.OWNER),
    Person("Ingrid", "Larsen", "risk", "Chief Risk Officer", Role.OWNER),
    Person("Victor", "Almeida", "proc", "Head of Procurement", Role.OWNER),
    # Initiative owners
    Person("Hannah", "Cole", "cs", "Contact Centre Operations Manager", Role.OWNER),
    Person("Mateo", "Silva", "cs", "Service Quality Lead", Role.OWNER),
    Person("Priyanka", "Iyer", "claims", "Claims Transformation Lead", Role.OWNER),
    Person("Tom", "Gallagher", "claims", "Special Investigations Unit Manager", Role.OWNER),
    Person("Chloe", "Dubois", "claims", "Motor & Property Claims Manager", Role.OWNER),
    Person("Ben", "Adeyemi", "uw", "Underwriting Innovation Manager", Role.OWNER),
    Person("Laura", "Kim", "uw", "Pricing Actuary", Role.OWNER),
    Person("Zoe", "Fischer", "mkt", "Creative Director", Role.OWNER),
    Person("Ethan", "Park", "mkt", "Growth Marketing Lead", Role.OWNER),
    Person("Olivia", "Grant", "sales", "Broker Experience Manager", Role.OWNER),
    Person("Ravi", "Patel", "sales", "Sales Operations Lead", Role.OWNER),
    Person("Noah", "Schmidt", "eng", "Staff Engineer, Developer Productivity", Role.OWNER),
    Person("Mei", "Lin", "eng", "Engineering Manager, Policy Platform", Role.OWNER),
    Person("Samuel", "Osei", "data", "ML Engineering Lead", Role.OWNER),
    Person("Julia", "Novak", "data", "Analytics Product Owner", Role.OWNER),
    Person("Ahmed", "Karim", "fin", "FP&A Manager", Role.OWNER),
    Person("Claire", "Dupont", "fin", "Accounts Payable Process Owner", Role.OWNER),
    Person("Fatima", "Zahra", "hr", "HR Digital Lead", Role.OWNER),
    Person("Liam", "O'Connor", "hr", "Talent Acquisition Lead", Role.OWNER),
    Person("Isabel", "Moreno", "legal", "Senior Counsel, Commercial", Role.OWNER),
    Person("Peter", "Lindqvist", "ops", "Operations Excellence Manager", Role.OWNER),
    Person("Amara", "Nwosu", "ops", "Mailroom Operations Lead", Role.OWNER),
    Person("Diego", "Ramos", "it", "Workplace Technology Manager", Role.OWNER),
    Person("Sarah", "Goldberg", "it", "IT Service Desk Manager", Role.OWNER),
    Person("Yusuf", "Demir", "it", "Security Operations Centre Lead", Role.OWNER),
    Person("Elena", "Petrova", "risk", "Financial Crime Compliance Lead", Role.OWNER),
    Person("George", "Whitfield", "risk", "Model Risk Manager", Role.OWNER),
    Person("Hana", "Sato", "proc", "Category Manager, Technology", Role.OWNER),
    # The AI Centre of Excellence and the board
    Person("Priya", "Raman", "data", "AI CoE Lead Reviewer", Role.REVIEWER),
    Person("Tomasz", "Nowak", "data", "AI CoE Solution Architect", Role.REVIEWER),
    Person("Margaret", "Hale", None, "Chief Executive Officer", Role.EXECUTIVE),
)


def all_people() -> tuple[Person, ...]:
    return DEMO_LOGINS + PEOPLE


def person_by_local(local_part: str) -> Person:
    for person in all_people():
        if person.email == email(local_part):
            return person
    raise KeyError(local_part)


# --- Departments and cost centres ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostCentre:
    code: str
    name: str
    budget_owner: str  # e-mail local part


@dataclass(frozen=True)
class Department:
    key: str
    name: str
    head: str  # e-mail local part
    loaded_hourly_rate: int  # USD, fully loaded, of the people who oversee its AI
    cost_centres: tuple[CostCentre, ...]


DEPARTMENTS = (
    Department("cs", "Customer Service", "grace.okafor", 45, (
        CostCentre("CC-4110", "Contact Centre Operations", "hannah.cole"),
        CostCentre("CC-4120", "Digital Service", "grace.okafor"),
    )),
    Department("claims", "Claims", "daniel.reyes", 62, (
        CostCentre("CC-4210", "Claims Handling", "daniel.reyes"),
        CostCentre("CC-4220", "Special Investigations Unit", "tom.gallagher"),
        CostCentre("CC-4230", "Motor & Property Claims", "chloe.dubois"),
    )),
    Department("uw", "Underwriting", "helen.whitaker", 85, (
        CostCentre("CC-4310", "Commercial Underwriting", "helen.whitaker"),
        CostCentre("CC-4320", "Personal Lines Pricing", "laura.kim"),
    )),
    Department("mkt", "Marketing", "sofia.marchetti", 70, (
        CostCentre("CC-4410", "Brand & Creative", "zoe.fischer"),
        CostCentre("CC-4420", "Growth Marketing", "sofia.marchetti"),
    )),
    Department("sales", "Sales & Distribution", "marcus.bell", 75, (
        CostCentre("CC-4510", "Broker Distribution", "marcus.bell"),
        CostCentre("CC-4520", "Direct Sales", "ravi.patel"),
    )),
    Department("eng", "Engineering", "anika.sharma", 110, (
        CostCentre("CC-4610", "Platform Engineering", "anika.sharma"),
        CostCentre("CC-4620", "Application Development", "mei.lin"),
    )),
    Department("data", "Data & Analytics", "lars.eriksen", 105, (
        CostCentre("CC-4710", "Data Platform", "lars.eriksen"),
        CostCentre("CC-4720", "AI Centre of Excellence", "priya.raman"),
    )),
    Department("fin", "Finance", "evelyn.executive", 80, (
        CostCentre("CC-4810", "Financial Planning & Analysis", "ahmed.karim"),
        CostCentre("CC-4820", "Accounts Payable & Expenses", "claire.dupont"),
    )),
    Department("hr", "People & HR", "nadia.haddad", 65, (
        CostCentre("CC-4910", "People Operations", "nadia.haddad"),
        CostCentre("CC-4920", "Talent Acquisition", "liam.oconnor"),
    )),
    Department("legal", "Legal", "jonathan.pryce", 150, (
        CostCentre("CC-5010", "Legal Counsel", "jonathan.pryce"),
    )),
    Department("ops", "Operations", "rosa.delgado", 50, (
        CostCentre("CC-5110", "Policy Operations", "rosa.delgado"),
        CostCentre("CC-5120", "Mailroom & Print", "amara.nwosu"),
    )),
    Department("it", "IT", "kwame.mensah", 85, (
        CostCentre("CC-5210", "Workplace Technology", "diego.ramos"),
        CostCentre("CC-5220", "IT Service Desk", "sarah.goldberg"),
        CostCentre("CC-5230", "Security Operations", "yusuf.demir"),
    )),
    Department("risk", "Risk & Compliance", "ingrid.larsen", 95, (
        CostCentre("CC-5310", "Enterprise Risk", "ingrid.larsen"),
        CostCentre("CC-5320", "Financial Crime Compliance", "elena.petrova"),
    )),
    Department("proc", "Procurement", "victor.almeida", 75, (
        CostCentre("CC-5410", "Strategic Sourcing", "victor.almeida"),
        CostCentre("CC-5420", "Vendor Management", "hana.sato"),
    )),
)


def department_by_key(key: str) -> Department:
    return next(d for d in DEPARTMENTS if d.key == key)


# --- Vendors, model catalogue, licence pools ----------------------------------------------------------------------

VENDORS = (
    ("OpenAI", "https://openai.com"),
    ("Anthropic", "https://www.anthropic.com"),
    ("Google", "https://cloud.google.com"),
    ("Meta", "https://ai.meta.com"),
    ("Mistral AI", "https://mistral.ai"),
    ("Cohere", "https://cohere.com"),
    ("Microsoft", "https://www.microsoft.com"),
    ("Amazon Web Services", "https://aws.amazon.com"),
    ("GitHub", "https://github.com"),
    ("Anysphere (Cursor)", "https://cursor.com"),
    ("Salesforce", "https://www.salesforce.com"),
    ("ServiceNow", "https://www.servicenow.com"),
    ("Zendesk", "https://www.zendesk.com"),
    ("Intercom", "https://www.intercom.com"),
    ("Adobe", "https://www.adobe.com"),
    ("Midjourney", "https://www.midjourney.com"),
    ("Canva", "https://www.canva.com"),
    ("Jasper", "https://www.jasper.ai"),
    ("Grammarly", "https://www.grammarly.com"),
    ("Otter.ai", "https://otter.ai"),
    ("Fireflies.ai", "https://fireflies.ai"),
    ("Zoom", "https://zoom.us"),
    ("Gong", "https://www.gong.io"),
    ("UiPath", "https://www.uipath.com"),
    ("Databricks", "https://www.databricks.com"),
    ("Snowflake", "https://www.snowflake.com"),
    ("Hugging Face", "https://huggingface.co"),
    ("ElevenLabs", "https://elevenlabs.io"),
    ("DeepL", "https://www.deepl.com"),
    ("Harvey", "https://www.harvey.ai"),
    ("Luminance", "https://www.luminance.com"),
    ("Shift Technology", "https://www.shift-technology.com"),
    ("Tractable", "https://tractable.ai"),
    ("Glean", "https://www.glean.com"),
    ("Workday", "https://www.workday.com"),
    ("CoreWeave", "https://www.coreweave.com"),
    ("Synthesia", "https://www.synthesia.io"),
)


@dataclass(frozen=True)
class Model:
    provider: str
    name: str
    tier: ModelTier
    input_price: str | None  # USD per 1M tokens, list price
    output_price: str | None
    context_window: int | None
    open_weights: bool = False


AI_MODELS = (
    Model("OpenAI", "gpt-4o", ModelTier.FRONTIER, "2.50", "10.00", 128_000),
    Model("OpenAI", "gpt-4o-mini", ModelTier.SMALL, "0.15", "0.60", 128_000),
    Model("OpenAI", "gpt-4.1", ModelTier.FRONTIER, "2.00", "8.00", 1_047_576),
    Model("OpenAI", "gpt-4.1-mini", ModelTier.MID, "0.40", "1.60", 1_047_576),
    Model("OpenAI", "o3", ModelTier.FRONTIER, "2.00", "8.00", 200_000),
    Model("OpenAI", "o4-mini", ModelTier.MID, "1.10", "4.40", 200_000),
    Model("OpenAI", "text-embedding-3-large", ModelTier.EMBEDDING, "0.13", None, 8_191),
    Model("OpenAI", "text-embedding-3-small", ModelTier.EMBEDDING, "0.02", None, 8_191),
    Model("OpenAI", "gpt-image-1", ModelTier.OTHER, "5.00", "40.00", None),
    Model("OpenAI", "whisper-large-v3", ModelTier.OTHER, None, None, None, open_weights=True),
    Model("Anthropic", "claude-opus-4", ModelTier.FRONTIER, "15.00", "75.00", 200_000),
    Model("Anthropic", "claude-sonnet-4", ModelTier.FRONTIER, "3.00", "15.00", 200_000),
    Model("Anthropic", "claude-3-5-haiku", ModelTier.SMALL, "0.80", "4.00", 200_000),
    Model("Google", "gemini-2.5-pro", ModelTier.FRONTIER, "1.25", "10.00", 1_048_576),
    Model("Google", "gemini-2.5-flash", ModelTier.MID, "0.30", "2.50", 1_048_576),
    Model("Google", "gemini-2.0-flash", ModelTier.SMALL, "0.10", "0.40", 1_048_576),
    Model("Google", "gemini-embedding-001", ModelTier.EMBEDDING, "0.15", None, 2_048),
    Model("Meta", "llama-3.3-70b-instruct", ModelTier.MID, "0.88", "0.88", 128_000, open_weights=True),
    Model("Meta", "llama-3.1-8b-instruct", ModelTier.SMALL, "0.18", "0.18", 128_000, open_weights=True),
    Model("Meta", "llama-3.1-405b-instruct", ModelTier.FRONTIER, "3.50", "3.50", 128_000, open_weights=True),
    Model("Mistral AI", "mistral-large-2", ModelTier.FRONTIER, "2.00", "6.00", 128_000),
    Model("Mistral AI", "mistral-small-3.1", ModelTier.SMALL, "0.10", "0.30", 128_000, open_weights=True),
    Model("Mistral AI", "codestral", ModelTier.MID, "0.30", "0.90", 256_000),
    Model("Cohere", "command-r-plus", ModelTier.MID, "2.50", "10.00", 128_000),
    Model("Cohere", "embed-english-v3.0", ModelTier.EMBEDDING, "0.10", None, 512),
    Model("Cohere", "rerank-3.5", ModelTier.OTHER, None, None, 4_096),
    Model("Microsoft", "phi-4", ModelTier.SMALL, "0.125", "0.50", 16_000, open_weights=True),
    Model("Amazon Web Services", "amazon-nova-pro", ModelTier.MID, "0.80", "3.20", 300_000),
    Model("Amazon Web Services", "titan-text-embeddings-v2", ModelTier.EMBEDDING, "0.02", None, 8_192),
    Model("Hugging Face", "bge-large-en-v1.5", ModelTier.EMBEDDING, None, None, 512, open_weights=True),
    Model("ElevenLabs", "eleven-multilingual-v2", ModelTier.OTHER, None, None, None),
)


@dataclass(frozen=True)
class Pool:
    tool: str
    vendor: str
    seats: int
    price_per_seat_month: str


# Seat-based tools. A template naming a pool gets it attached and its cost as the licence line of the TCO; a pool no
# template names (Grammarly, bought on a card by a department) stays unattached, as the inventory should reveal.
LICENCE_POOLS = (
    Pool("Microsoft 365 Copilot", "Microsoft", 2400, "30.00"),
    Pool("GitHub Copilot Business", "GitHub", 640, "19.00"),
    Pool("Cursor Business", "Anysphere (Cursor)", 45, "40.00"),
    Pool("ChatGPT Enterprise", "OpenAI", 400, "60.00"),
    Pool("Claude Team", "Anthropic", 120, "30.00"),
    Pool("Gemini for Google Workspace", "Google", 150, "24.00"),
    Pool("Grammarly Business", "Grammarly", 300, "15.00"),
    Pool("Otter.ai Business", "Otter.ai", 90, "20.00"),
    Pool("Fireflies.ai Business", "Fireflies.ai", 60, "19.00"),
    Pool("Midjourney Pro", "Midjourney", 25, "60.00"),
    Pool("Jasper Teams", "Jasper", 30, "69.00"),
    Pool("Gong Conversation Intelligence", "Gong", 110, "100.00"),
    Pool("Teams Premium (intelligent recap)", "Microsoft", 800, "10.00"),
    Pool("Harvey", "Harvey", 18, "150.00"),
)


# --- Initiative templates -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    baseline: str
    target: str
    direction: KpiDirection
    value_per_unit: str


def up(name: str, unit: str, baseline: str, target: str, value_per_unit: str) -> Kpi:
    return Kpi(name, unit, baseline, target, KpiDirection.INCREASE, value_per_unit)


def down(name: str, unit: str, baseline: str, target: str, value_per_unit: str) -> Kpi:
    return Kpi(name, unit, baseline, target, KpiDirection.DECREASE, value_per_unit)


@dataclass(frozen=True)
class Stack:
    vendors: tuple[str, ...]
    models: tuple[str, ...] = ()


def on(*vendors: str, models: tuple[str, ...] = ()) -> Stack:
    return Stack(vendors, models)


@dataclass(frozen=True)
class Template:
    """One kind of initiative; each variant becomes an initiative ("{v}" in texts is replaced by the variant)."""

    name: str
    category: Category
    description: str
    problem: str
    process: str
    outcome: str  # what one outcome is
    baseline: str  # cost per outcome before AI, USD
    volume: int  # outcomes per month at full scale
    savings: float  # share of the baseline cost per outcome the initiative expects to save
    cost: int  # typical declared monthly run cost, USD
    stacks: tuple[Stack, ...]
    kpis: tuple[Kpi, ...]
    kind: str = "api"  # api | saas | selfhosted | platform: how the TCO splits
    oversight: int = 20  # human oversight hours per month
    tags: tuple[str, ...] = ()
    variants: tuple[str, ...] = ("",)
    stages: tuple[Stage | None, ...] = ()  # fixed stage per variant; None or missing: drawn
    owner: str | None = None  # e-mail local part; default: drawn among the department's people
    delegate: str | None = None
    cost_centre: str | None = None  # default: the department's first
    pool: str | None = None


S = Stage
C = Category
CS_ASSIST = on("Zendesk", "OpenAI", models=("gpt-4o-mini", "text-embedding-3-small"))

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "cs": (
        Template(
            "Ask Northwind — web and app support assistant", C.CONVERSATIONAL_ASSISTANT,
            "Customer-facing assistant on northwindmutual.com and the mobile app answering policy, billing and "
            "document questions, handing over to an agent with the conversation summary.",
            "Half of the 60,000 monthly contacts are simple questions an FAQ already answers.",
            "Phone and chat contacts handled end to end by tier-1 agents.",
            "contact resolved without an agent", "6.80", 22_000, 0.7, 9_500, (CS_ASSIST,),
            (up("Containment rate", "%", "0", "45", "3100"), up("CSAT of bot conversations", "points", "0", "78", "0"),
             down("Average handle time after handover", "minutes", "7.5", "6.0", "1800")),
            tags=("customer-facing", "genai", "pii"), stages=(S.PRODUCTION,), owner="oscar.owner",
            cost_centre="CC-4120",
        ),
        Template(
            "Agent reply suggestions in Zendesk", C.CONTENT_GENERATION,
            "Drafts replies to e-mail and chat tickets from the policy record and the knowledge base; the agent "
            "edits and sends.",
            "Agents retype the same explanations about excess, renewals and direct debits hundreds of times a day.",
            "Agents writing replies from scratch with macros.",
            "ticket replied", "3.20", 38_000, 0.3, 4_200, (CS_ASSIST,),
            (down("Average handle time (e-mail)", "minutes", "9.0", "6.5", "1450"),
             up("Suggestion acceptance rate", "%", "0", "60", "0")),
            tags=("genai", "pii"), stages=(S.PILOT,), owner="oscar.owner",
        ),
        Template(
            "Call summarisation and wrap-up notes", C.SPEECH_AND_AUDIO,
            "Transcribes contact-centre calls and writes the wrap-up note and disposition code into the CRM.",
            "After-call work takes 90 seconds per call and the notes are inconsistent.",
            "Agents typing notes and choosing disposition codes after every call.",
            "call wrapped up", "1.10", 45_000, 0.6, 6_800,
            (on("Microsoft", "OpenAI", models=("whisper-large-v3", "gpt-4o-mini")),),
            (down("After-call work", "seconds", "90", "25", "130"),
             up("Note quality score", "points", "62", "85", "0")),
            tags=("pii", "call-recordings"), stages=(S.CHANGES_REQUESTED,), owner="oscar.owner",
            cost_centre="CC-4110",
        ),
        Template(
            "Complaint e-mail triage", C.CLASSIFICATION,
            "Classifies inbound e-mails as complaint / expression of dissatisfaction / service request and routes "
            "complaints to the complaints team within the regulatory clock.",
            "Complaints hidden in general e-mail are found late and breach the eight-week handling deadline.",
            "A triage team reading the shared mailbox.",
            "e-mail triaged", "0.95", 30_000, 0.65, 1_900,
            (on("OpenAI", models=("gpt-4o-mini",)),),
            (down("Complaints identified late", "per month", "140", "20", "220"),
             down("Triage backlog", "hours", "18", "2", "0")),
            tags=("regulatory", "pii"), stages=(S.IN_REVIEW,), owner="oscar.owner",
        ),
        Template(
            "Voice bot for policy payments (IVR)", C.AGENTIC_AUTOMATION,
            "Conversational IVR that authenticates the caller and takes a missed premium payment end to end.",
            "Missed-payment calls are 12% of phone volume and entirely scripted.",
            "Agents taking card payments over the phone with pause-and-resume recording.",
            "payment call completed", "5.40", 7_000, 0.75, 5_200,
            (on("Google", models=("gemini-2.5-flash",)),),
            (up("Calls completed without an agent", "%", "0", "55", "2900"),),
            tags=("customer-facing", "pci"), stages=(S.PROPOSED,), owner="oscar.owner", cost_centre="CC-4110",
        ),
        Template(
            "Project Echo — sentiment-based escalation", C.ANALYTICS_INSIGHTS,
            "Real-time sentiment scoring of chats to escalate angry customers to senior agents.",
            "Escalations happen after the customer has already asked for a manager.",
            "Supervisors monitoring queues by eye.",
            "conversation scored", "0.40", 50_000, 0.2, 3_600,
            (on("Amazon Web Services", models=("amazon-nova-pro",)),),
            (down("Complaints from escalated chats", "per month", "95", "60", "240"),),
            tags=("customer-facing",), stages=(S.KILLED,), owner="oscar.owner",
        ),
        Template(
            "Contact-centre call volume forecasting", C.FORECASTING,
            "Forecasts half-hourly call and chat volumes for six weeks ahead to plan rosters.",
            "Rosters built from last year's volumes miss storm and renewal peaks.",
            "A workforce planner's spreadsheet.",
            "interval forecast", "2.50", 2_000, 0.5, 900,
            (on("Databricks", models=()),),
            (down("Forecast error (MAPE)", "%", "14", "6", "2100"), up("Service level", "%", "71", "80", "1300")),
            kind="platform", cost_centre="CC-4110",
        ),
        Template(
            "Automated call quality scoring", C.SPEECH_AND_AUDIO,
            "Scores 100% of calls against the quality framework instead of a 2% sample.",
            "Quality analysts listen to five calls per agent per month.",
            "Manual call sampling and scoring by the quality team.",
            "call scored", "0.90", 40_000, 0.55, 5_800,
            (on("OpenAI", models=("whisper-large-v3", "gpt-4.1-mini")),),
            (up("Calls quality-checked", "%", "2", "100", "0"),
             down("Quality analyst hours", "hours per month", "1200", "400", "45")),
            tags=("call-recordings",), owner="mateo.silva", cost_centre="CC-4110",
        ),
        Template(
            "Live translation for {v}-speaking customers", C.TRANSLATION,
            "Machine translation of chat and e-mail for {v}-speaking policyholders, with agent review of "
            "outgoing messages.",
            "Interpreter lines cost $2.10 a minute and customers wait for a bilingual agent.",
            "A telephone interpreting service and a few bilingual agents.",
            "conversation translated", "9.00", 1_800, 0.6, 1_300,
            (on("DeepL"), on("Google", models=("gemini-2.0-flash",)), on("OpenAI", models=("gpt-4o-mini",))),
            (down("Interpreter spend", "USD per month", "16000", "5000", "1"),
             up("First-contact resolution (translated)", "%", "58", "72", "0")),
            kind="saas", tags=("customer-facing",), variants=("Spanish", "Polish", "Portuguese"),
            owner="mateo.silva",
        ),
        Template(
            "Retention next-best-action prompts", C.PERSONALIZATION,
            "Suggests the retention offer most likely to keep a customer who calls to cancel.",
            "Agents offer the same 10% discount to everybody.",
            "Fixed retention script.",
            "retention call", "38.00", 3_500, 0.12, 2_400,
            (on("Salesforce", models=()),),
            (up("Save rate on cancellation calls", "%", "21", "28", "420"),),
            kind="platform", owner="hannah.cole",
        ),
        Template(
            "Agent knowledge search", C.SEARCH_AND_KNOWLEDGE,
            "Semantic search with cited answers over 4,000 knowledge articles and product wordings for agents.",
            "Agents put customers on hold to search three knowledge bases.",
            "Keyword search in the intranet and asking a team leader.",
            "answer found", "1.60", 60_000, 0.4, 3_100,
            (on("Glean"), on("OpenAI", models=("gpt-4o", "text-embedding-3-large"))),
            (down("Hold time per call", "seconds", "55", "25", "80"),),
            kind="saas", owner="hannah.cole", variants=("", "(team leader edition)"),
        ),
        Template(
            "Fireflies.ai notes for the complaints team", C.SPEECH_AND_AUDIO,
            "Fireflies.ai records and summarises complaint resolution calls for the complaints team.",
            "Complaint handlers must evidence every call in the final response letter.",
            "Handlers typing call notes.",
            "call documented", "6.00", 1_800, 0.5, 1_100,
            (on("Fireflies.ai"),),
            (down("Time to write a final response", "minutes", "50", "30", "40"),),
            kind="saas", tags=("seat-based", "call-recordings", "shadow-it"), owner="mateo.silva",
            pool="Fireflies.ai Business",
        ),
        Template(
            "Plain-language letter rewriter", C.CONTENT_GENERATION,
            "Rewrites standard customer letters (renewal, claim decline, cancellation) to a reading age of 11.",
            "Customers call to ask what our letters mean; the regulator expects plain language.",
            "Letters templated by legal and compliance years ago.",
            "letter rewritten", "40.00", 120, 0.6, 300,
            (on("Anthropic", models=("claude-sonnet-4",)),),
            (down("Calls asking what a letter means", "per month", "4200", "2500", "6"),),
            tags=("customer-facing", "genai"), owner="hannah.cole", cost_centre="CC-4120",
        ),
    ),
    "claims": (
        Template(
            "Project Sentinel — {v} claims fraud scoring", C.ANOMALY_DETECTION,
            "Scores every {v} claim at first notice of loss for fraud indicators and refers the riskiest to the SIU.",
            "Fraud costs an estimated 6% of {v} claims paid and referrals depend on handler instinct.",
            "Red-flag checklists completed by handlers; SIU referrals by e-mail.",
            "claim scored", "4.50", 9_000, 0.5, 18_000,
            (on("Shift Technology"),),
            (up("Fraud detected", "USD per month", "310000", "520000", "0.35"),
             down("False-positive referrals", "%", "62", "35", "0")),
            kind="saas", tags=("fraud", "pii", "model-risk"), variants=("motor", "home", "commercial property"),
            stages=(S.PRODUCTION, S.PILOT, S.IN_REVIEW), owner="tom.gallagher", cost_centre="CC-4220",
        ),
        Template(
            "Photo-based {v} damage estimation", C.COMPUTER_VISION,
            "Estimates repair cost from photos the customer uploads for {v} claims and fast-tracks low-value ones.",
            "An assessor visit costs $180 and adds nine days to the claim.",
            "Field and desk assessors estimating every claim.",
            "claim estimated", "180.00", 2_600, 0.45, 21_000,
            (on("Tractable"), on("Google", models=("gemini-2.5-pro",))),
            (down("Cycle time to settlement", "days", "21", "9", "310"),
             up("Claims settled without an assessor", "%", "8", "35", "950")),
            kind="saas", tags=("customer-facing",), variants=("motor", "home (roof and water)"),
            owner="chloe.dubois", cost_centre="CC-4230",
        ),
        Template(
            "FNOL intake chatbot", C.CONVERSATIONAL_ASSISTANT,
            "Guided first notice of loss by chat and WhatsApp: collects the facts, photos and third-party details.",
            "FNOL calls peak after storms and abandon rates reach 30%.",
            "FNOL taken by phone by the claims contact centre.",
            "claim notified", "14.00", 6_000, 0.55, 7_400,
            (on("Google", models=("gemini-2.5-flash",)),),
            (up("Claims notified digitally", "%", "18", "50", "410"), down("FNOL abandon rate", "%", "22", "8", "0")),
            tags=("customer-facing", "pii"), owner="priyanka.iyer", delegate="oscar.owner",
        ),
        Template(
            "Claims document extraction ({v})", C.DOCUMENT_PROCESSING,
            "Extracts fields from {v} attached to claims and posts them to the claims system.",
            "Handlers key 40 fields per document; errors lead to overpayments.",
            "Manual data entry by claims administrators.",
            "document processed", "3.90", 25_000, 0.7, 6_300,
            (on("Amazon Web Services", "Anthropic", models=("claude-3-5-haiku",)),
             on("OpenAI", models=("gpt-4o",))),
            (down("Keying time per document", "minutes", "6", "1", "55"),
             down("Extraction errors", "%", "4", "1", "0")),
            variants=("repair invoices", "medical reports", "police reports"), owner="priyanka.iyer",
        ),
        Template(
            "Claim file summariser", C.CONTENT_GENERATION,
            "Summarises the full claim file (notes, letters, reports) for handlers picking up a claim or "
            "preparing a reserve review.",
            "Handlers spend 40 minutes reading a complex file before a decision.",
            "Reading the claim file end to end.",
            "file summarised", "41.00", 4_000, 0.5, 5_600,
            (on("Microsoft", "OpenAI", models=("gpt-4.1",)),),
            (down("Time to first decision on transferred claims", "minutes", "40", "15", "42"),),
            tags=("genai", "pii"), owner="daniel.reyes",
        ),
        Template(
            "Subrogation opportunity detection", C.CLASSIFICATION,
            "Flags settled claims where a third party was at fault and recovery was never pursued.",
            "An internal audit found $4M a year of missed recoveries.",
            "Handlers deciding recovery potential case by case.",
            "claim screened", "2.20", 12_000, 0.8, 2_900,
            (on("Databricks", models=("llama-3.3-70b-instruct",)),),
            (up("Recoveries pursued", "USD per month", "210000", "330000", "0.25"),),
            kind="platform", owner="chloe.dubois", cost_centre="CC-4230",
        ),
        Template(
            "Claims reserve forecasting", C.FORECASTING,
            "Predicts ultimate incurred cost per open claim to support case reserving.",
            "Case reserves are revised late, surprising the reserving actuaries at quarter end.",
            "Handler judgement plus reserve tables.",
            "claim reserved", "6.00", 15_000, 0.3, 3_800,
            (on("Databricks"),),
            (down("Reserve movement after 90 days", "%", "18", "8", "0"),),
            kind="platform", tags=("model-risk",), owner="daniel.reyes",
        ),
        Template(
            "Agentic claims payment reconciliation", C.AGENTIC_AUTOMATION,
            "An agent matches payments to invoices and repairer statements, chases missing documents and raises "
            "exceptions.",
            "Unreconciled claims payments age for weeks and block file closure.",
            "Claims finance clerks reconciling in spreadsheets.",
            "payment reconciled", "7.50", 8_000, 0.6, 4_700,
            (on("UiPath", "OpenAI", models=("gpt-4o",)),),
            (down("Unreconciled payments older than 30 days", "count", "1900", "200", "3"),),
            kind="platform", owner="priyanka.iyer",
        ),
        Template(
            "Litigation propensity model", C.CLASSIFICATION,
            "Predicts which bodily-injury claims will become litigated so senior handlers intervene early.",
            "Litigated claims cost three times more and are spotted after the solicitor's letter.",
            "Escalation rules based on claim value.",
            "claim assessed", "12.00", 1_500, 0.4, 2_200,
            (on("Amazon Web Services", models=("amazon-nova-pro",)),),
            (down("Litigation rate on flagged claims", "%", "14", "9", "0"),),
            tags=("model-risk",), owner="daniel.reyes",
        ),
        Template(
            "Claims handler copilot ({v})", C.CONVERSATIONAL_ASSISTANT,
            "A chat assistant for {v} claims handlers over the claims manual, policy wordings and the claim file.",
            "New handlers take nine months to become autonomous; wordings differ by product year.",
            "Asking team leaders and searching the claims manual.",
            "handler query answered", "9.00", 8_000, 0.5, 3_900,
            (on("OpenAI", models=("gpt-4o", "text-embedding-3-large")), on("Anthropic", models=("claude-sonnet-4",))),
            (down("Questions escalated to team leaders", "per month", "3000", "1200", "9"),
             up("Handler confidence score", "points", "61", "80", "0")),
            tags=("genai",), variants=("motor", "property"), owner="chloe.dubois", cost_centre="CC-4230",
        ),
        Template(
            "Project Lighthouse — catastrophe surge triage", C.CLASSIFICATION,
            "After a storm, sorts the surge of notifications by severity and vulnerability so the worst are "
            "visited first.",
            "After the last windstorm, vulnerable customers waited as long as everyone else.",
            "First-come first-served queues.",
            "claim triaged", "3.00", 5_000, 0.6, 1_300,
            (on("Google", models=("gemini-2.0-flash",)),),
            (down("Days to first contact for severe claims", "days", "6", "1", "0"),),
            tags=("catastrophe", "customer-facing"), owner="daniel.reyes",
        ),
    ),
    "uw": (
        Template(
            "Broker submission intake — {v}", C.DOCUMENT_PROCESSING,
            "Reads broker e-mails, schedules and SOVs for {v} and pre-fills the underwriting workbench.",
            "Underwriters spend 40% of their time re-keying submissions; quote turnaround is five days.",
            "Underwriting assistants keying submissions into the workbench.",
            "submission processed", "48.00", 1_400, 0.55, 6_200,
            (on("Microsoft", "OpenAI", models=("gpt-4o",)), on("Anthropic", models=("claude-sonnet-4",)),
             on("Google", models=("gemini-2.5-pro",))),
            (down("Quote turnaround", "days", "5", "2", "0"), up("Submissions quoted", "%", "52", "70", "240")),
            tags=("broker",), variants=("commercial property", "marine cargo", "professional liability"),
            owner="ben.adeyemi", cost_centre="CC-4310",
        ),
        Template(
            "Property risk scoring from aerial imagery", C.COMPUTER_VISION,
            "Roof condition, vegetation and pool detection from aerial imagery at quote and renewal.",
            "Inspections are ordered for only 5% of homes; roof claims are the largest loss driver.",
            "Desk underwriting plus selective physical inspections.",
            "property scored", "3.00", 30_000, 0.4, 12_500,
            (on("Google", models=("gemini-2.5-flash",)),),
            (down("Loss ratio on roof perils", "%", "64", "58", "0"),),
            kind="saas", owner="laura.kim", cost_centre="CC-4320",
        ),
        Template(
            "Underwriting guidelines Q&A", C.SEARCH_AND_KNOWLEDGE,
            "Cited answers from 1,200 pages of underwriting guidelines, referral limits and reinsurance treaties.",
            "Junior underwriters refer simple appetite questions to seniors.",
            "Asking a senior underwriter; searching PDFs.",
            "question answered", "22.00", 3_000, 0.6, 2_100,
            (on("Anthropic", models=("claude-sonnet-4", "embed-english-v3.0")), on("Cohere", models=("rerank-3.5",))),
            (down("Referrals to senior underwriters", "per month", "900", "450", "35"),),
            tags=("genai",), owner="ben.adeyemi",
        ),
        Template(
            "Project Atlas — personal lines dynamic pricing", C.FORECASTING,
            "Gradient-boosted demand and loss-cost models behind renewal pricing for motor and home.",
            "Renewal prices are set by rating tables reviewed once a year.",
            "Annual rate review by the pricing team.",
            "renewal priced", "0.80", 90_000, 0.5, 14_000,
            (on("Databricks"),),
            (up("Retention at target margin", "%", "78", "82", "22"), down("Loss ratio", "%", "67", "63", "0")),
            kind="platform", tags=("model-risk", "pricing"), owner="laura.kim", cost_centre="CC-4320",
        ),
        Template(
            "Broker appetite matching", C.PERSONALIZATION,
            "Recommends which of our products fit a broker's book and which risks to send us.",
            "Brokers send risks outside appetite; 35% of submissions are declined.",
            "Broker managers sharing appetite guides by PDF.",
            "submission matched", "30.00", 1_200, 0.3, 1_800,
            (on("Salesforce"),),
            (down("Declined submissions", "%", "35", "20", "0"),),
            kind="platform", tags=("broker",), owner="helen.whitaker",
        ),
        Template(
            "Loss-run summariser", C.DOCUMENT_PROCESSING,
            "Summarises five-year loss runs from prior carriers into a one-page view for the underwriter.",
            "Loss runs arrive as 30-page scans in dozens of formats.",
            "Underwriters reading loss runs manually.",
            "loss run summarised", "35.00", 900, 0.6, 1_600,
            (on("Google", models=("gemini-2.5-pro",)),),
            (down("Time to review loss history", "minutes", "45", "10", "70"),),
            owner="ben.adeyemi", cost_centre="CC-4310",
        ),
        Template(
            "Cyber risk questionnaire auto-fill", C.AGENTIC_AUTOMATION,
            "An agent completes cyber proposal forms from the applicant's public footprint and previous answers.",
            "SME customers abandon the 80-question cyber proposal form.",
            "Customers and brokers filling the form by hand.",
            "proposal completed", "25.00", 600, 0.5, 2_600,
            (on("OpenAI", models=("o3",)),),
            (up("Proposal completion rate", "%", "41", "70", "120"),),
            owner="helen.whitaker",
        ),
        Template(
            "Catastrophe exposure anomaly alerts", C.ANOMALY_DETECTION,
            "Flags unusual accumulations of insured value in flood and wildfire zones as policies are bound.",
            "Accumulation is measured quarterly, after the risk is on the books.",
            "Quarterly exposure reports.",
            "policy checked", "0.30", 40_000, 0.5, 1_200,
            (on("Snowflake"),),
            (down("Unplanned accumulations found after binding", "per quarter", "12", "2", "0"),),
            kind="platform", tags=("reinsurance",), owner="laura.kim",
        ),
        Template(
            "Life underwriting medical evidence summariser", C.DOCUMENT_PROCESSING,
            "Summarises GP reports and medical records for life and income protection underwriting.",
            "Medical evidence runs to 80 pages and takes an hour to read.",
            "Underwriters reading medical evidence in full.",
            "case summarised", "75.00", 700, 0.5, 2_000,
            (on("Amazon Web Services", "Anthropic", models=("claude-sonnet-4",)),),
            (down("Time to decision on referred cases", "days", "12", "5", "0"),),
            tags=("health-data", "pii"), owner="ben.adeyemi",
        ),
        Template(
            "Underwriting audit sampling", C.ANOMALY_DETECTION,
            "Targets underwriting file audits at policies whose terms deviate most from guidelines.",
            "Audits sample 2% of files at random and find little.",
            "Random file audits.",
            "file scored", "0.50", 12_000, 0.5, 500,
            (on("Databricks"),),
            (up("Audit findings per 100 files", "count", "3", "9", "0"),),
            kind="platform", owner="helen.whitaker",
        ),
    ),
    "mkt": (
        Template(
            "{v} for campaign imagery", C.CONTENT_GENERATION,
            "Generated imagery for social, display and e-mail campaigns using {v}, reviewed by the brand team.",
            "Stock photography and agency shoots cost $1,200 per campaign concept.",
            "Stock libraries and agency photo shoots.",
            "image approved for use", "85.00", 300, 0.6, 1_400,
            (on("Midjourney"), on("Adobe"), on("Canva"), on("OpenAI", models=("gpt-image-1",))),
            (down("Creative cost per campaign", "USD", "1200", "450", "1"),
             up("Concepts tested per campaign", "count", "3", "10", "0")),
            kind="saas", tags=("brand", "genai", "ip-risk"),
            variants=("Midjourney", "Adobe Firefly", "Canva Magic Studio", "ChatGPT image generation"),
            owner="zoe.fischer", cost_centre="CC-4410",
        ),
        Template(
            "Campaign copy generation", C.CONTENT_GENERATION,
            "Drafts e-mail, landing-page and social copy in the Northwind tone of voice.",
            "The copy team is the bottleneck for every campaign.",
            "Copywriters and an agency retainer.",
            "copy asset produced", "120.00", 250, 0.5, 2_100,
            (on("Jasper"),),
            (down("Agency copy spend", "USD per month", "28000", "15000", "1"),),
            kind="saas", tags=("brand", "genai"), owner="ethan.park", pool="Jasper Teams",
        ),
        Template(
            "Gemini for Workspace in Marketing", C.CONTENT_GENERATION,
            "Gemini in Docs, Slides and Gmail for the marketing team, who work in Google Workspace unlike the "
            "rest of the company.",
            "Marketing wanted a writing assistant and could not wait for the Microsoft 365 Copilot rollout.",
            "Writing and slide-building by hand.",
            "active user month", "300.00", 120, 0.1, 3_600,
            (on("Google", models=("gemini-2.5-pro",)),),
            (up("Weekly active users", "%", "0", "70", "0"),),
            kind="saas", tags=("shadow-it", "seat-based"), owner="ethan.park", pool="Gemini for Google Workspace",
        ),
        Template(
            "Website next-best-offer personalisation", C.PERSONALIZATION,
            "Chooses the offer and hero banner on northwindmutual.com for each visitor segment.",
            "Every visitor sees the same motor insurance banner.",
            "Static web content changed monthly.",
            "visit personalised", "0.05", 400_000, 0.3, 4_900,
            (on("Salesforce"),),
            (up("Quote starts per 1,000 visits", "count", "31", "38", "9"),),
            kind="platform", tags=("customer-facing",), owner="ethan.park", cost_centre="CC-4420",
        ),
        Template(
            "Marketing mix modelling", C.ANALYTICS_INSIGHTS,
            "Bayesian media mix model attributing new policies to channels and recommending the budget split.",
            "The $30M media budget is split by last-click attribution.",
            "Agency attribution reports.",
            "budget recommendation", "9000.00", 1, 0.3, 3_200,
            (on("Google", "Databricks"),),
            (up("Policies per $1,000 of media", "count", "2.1", "2.5", "380"),),
            kind="platform", owner="sofia.marchetti", cost_centre="CC-4420",
        ),
        Template(
            "Social listening sentiment dashboard", C.ANALYTICS_INSIGHTS,
            "Classifies brand mentions and reviews by topic and sentiment.",
            "The team reads Trustpilot and social mentions by hand on Mondays.",
            "Manual review of mentions.",
            "mention classified", "0.25", 20_000, 0.6, 800,
            (on("OpenAI", models=("gpt-4o-mini",)),),
            (down("Time to detect a brand issue", "hours", "72", "6", "0"),),
            owner="zoe.fischer",
        ),
        Template(
            "SEO content brief generator", C.CONTENT_GENERATION,
            "Generates briefs and first drafts for insurance guides from search data.",
            "Organic traffic has fallen 20% as competitors publish more guides.",
            "Freelance writers briefed by the SEO manager.",
            "article published", "450.00", 40, 0.5, 700,
            (on("Anthropic", models=("claude-sonnet-4",)),),
            (up("Organic sessions", "per month", "180000", "230000", "0.08"),),
            tags=("genai",), owner="ethan.park", delegate="oscar.owner",
        ),
        Template(
            "Video ad localisation with AI dubbing", C.TRANSLATION,
            "Dubs campaign videos into Spanish and Portuguese with synthetic voices.",
            "Localised video costs $4,000 per language per ad.",
            "Dubbing studio.",
            "video localised", "4000.00", 6, 0.8, 900,
            (on("ElevenLabs", models=("eleven-multilingual-v2",)),),
            (down("Localisation cost per video", "USD", "4000", "600", "1"),),
            kind="saas", tags=("brand", "ip-risk"), owner="zoe.fischer",
        ),
        Template(
            "Product explainer videos with AI avatars", C.CONTENT_GENERATION,
            "Short explainer videos for each product with a synthetic presenter, updated when wordings change.",
            "Video production takes six weeks and is redone for each product change.",
            "Agency video production.",
            "video produced", "2500.00", 8, 0.7, 1_000,
            (on("Synthesia"),),
            (down("Cost per explainer video", "USD", "2500", "400", "1"),),
            kind="saas", tags=("brand", "genai"), owner="zoe.fischer", cost_centre="CC-4410",
        ),
        Template(
            "Customer segmentation refresh", C.ANALYTICS_INSIGHTS,
            "Behavioural segmentation of the customer base using clustering and generated segment portraits.",
            "Segments date from 2019 and do not explain digital behaviour.",
            "A research agency study every five years.",
            "segment refreshed", "3000.00", 2, 0.5, 900,
            (on("Databricks", "OpenAI", models=("gpt-4o",)),),
            (up("Campaign response rate", "%", "2.1", "3.0", "0"),),
            kind="platform", owner="ethan.park", cost_centre="CC-4420",
        ),
    ),
    "sales": (
        Template(
            "Otter.ai meeting notes for {v}", C.SPEECH_AND_AUDIO,
            "Transcripts and action items of client meetings for {v}.",
            "Meeting notes are missing from the CRM and follow-ups get lost.",
            "Notes typed after meetings, if at all.",
            "meeting documented", "18.00", 1_500, 0.6, 1_800,
            (on("Otter.ai"),),
            (up("Meetings with notes in CRM", "%", "35", "90", "0"),),
            kind="saas", tags=("seat-based", "call-recordings"),
            variants=("broker account managers", "the direct sales team"), owner="olivia.grant",
            pool="Otter.ai Business",
        ),
        Template(
            "Gong conversation intelligence", C.SPEECH_AND_AUDIO,
            "Records and analyses direct-sales calls: talk ratios, objections, competitor mentions.",
            "Sales coaching is anecdotal and win rates vary threefold between agents.",
            "Team leader call shadowing.",
            "call analysed", "2.00", 9_000, 0.4, 11_000,
            (on("Gong"),),
            (up("Quote-to-bind conversion", "%", "18", "22", "95"),),
            kind="saas", tags=("seat-based", "call-recordings"), owner="ravi.patel", cost_centre="CC-4520",
            pool="Gong Conversation Intelligence",
        ),
        Template(
            "Einstein lead scoring", C.CLASSIFICATION,
            "Scores web and aggregator leads so agents call the likeliest buyers first.",
            "Leads are called in arrival order; hot leads wait hours.",
            "First-in first-out lead queue.",
            "lead scored", "0.60", 25_000, 0.4, 2_600,
            (on("Salesforce"),),
            (up("Conversion of top-decile leads", "%", "9", "14", "160"),),
            kind="platform", owner="ravi.patel", cost_centre="CC-4520",
        ),
        Template(
            "Broker portal assistant", C.CONVERSATIONAL_ASSISTANT,
            "Chat assistant in the broker portal answering product, appetite and policy servicing questions.",
            "Brokers phone the broker desk for answers that are in the portal.",
            "Broker desk phone line.",
            "broker query resolved", "11.00", 5_000, 0.5, 3_900,
            (on("Intercom", "Anthropic", models=("claude-3-5-haiku",)),),
            (down("Calls to the broker desk", "per month", "8000", "5000", "9"),),
            tags=("broker", "customer-facing"), owner="olivia.grant",
        ),
        Template(
            "RFP and proposal drafting", C.CONTENT_GENERATION,
            "Drafts answers to group-scheme and commercial RFPs from the library of past answers.",
            "Each large RFP takes 60 person-hours across five teams.",
            "Copy-paste from old proposals.",
            "RFP answered", "4800.00", 10, 0.4, 1_200,
            (on("OpenAI", models=("gpt-4o",)), on("Anthropic", models=("claude-sonnet-4",))),
            (down("Hours per RFP", "hours", "60", "25", "75"),),
            tags=("genai",), owner="marcus.bell", variants=("", "(group schemes)"),
        ),
        Template(
            "Renewal churn prediction", C.FORECASTING,
            "Predicts which policies will lapse at renewal so the retention team calls them first.",
            "Retention calls are made to a random sample of renewing customers.",
            "Outbound calling lists by renewal date.",
            "renewal scored", "0.40", 60_000, 0.4, 1_700,
            (on("Databricks"),),
            (up("Retention of contacted customers", "%", "76", "81", "180"),),
            kind="platform", owner="ravi.patel",
        ),
        Template(
            "Cross-sell recommendations for brokers", C.PERSONALIZATION,
            "Tells broker managers which clients lack cover we offer (cyber, D&O, fleet).",
            "Cross-sell depends on the broker manager's memory.",
            "Quarterly book reviews.",
            "recommendation made", "15.00", 2_000, 0.3, 2_000,
            (on("Salesforce"),),
            (up("Products per commercial client", "count", "1.6", "1.9", "2400"),),
            kind="platform", tags=("broker",), owner="marcus.bell",
        ),
        Template(
            "Aggregator price-elasticity model", C.FORECASTING,
            "Estimates conversion against price position on comparison sites for motor and home.",
            "Pricing on aggregators is tuned by trial and error.",
            "Weekly manual price changes.",
            "quote priced", "0.02", 1_200_000, 0.5, 3_400,
            (on("Databricks"),),
            (up("Aggregator conversion", "%", "1.8", "2.3", "0"),),
            kind="platform", tags=("pricing", "model-risk"), owner="ravi.patel", cost_centre="CC-4520",
        ),
        Template(
            "Broker e-mail auto-responder", C.AGENTIC_AUTOMATION,
            "Answers routine broker e-mails (documents, MTA status, certificates) and files them to the policy.",
            "The broker desk mailbox receives 9,000 e-mails a month, 60% routine.",
            "Broker desk staff answering the mailbox.",
            "e-mail answered", "5.50", 9_000, 0.6, 2_700,
            (on("Microsoft", "OpenAI", models=("gpt-4.1-mini",)),),
            (down("Mailbox response time", "hours", "26", "2", "0"),),
            tags=("broker",), owner="olivia.grant",
        ),
    ),
    "eng": (
        Template(
            "GitHub Copilot Business rollout", C.CODE_ASSISTANT,
            "Copilot for all 640 engineers and contractors, with usage telemetry and a champions network.",
            "Developer capacity is the constraint on the policy-platform roadmap.",
            "Coding without an assistant.",
            "developer month", "14000.00", 640, 0.05, 12_160,
            (on("GitHub", models=("gpt-4o", "claude-sonnet-4")),),
            (up("Weekly active seats", "%", "0", "85", "0"), down("PR cycle time", "hours", "31", "24", "0")),
            kind="saas", tags=("seat-based",), stages=(S.PRODUCTION,), owner="noah.schmidt",
            pool="GitHub Copilot Business",
        ),
        Template(
            "Cursor pilot for the mobile team", C.CODE_ASSISTANT,
            "The mobile app squad evaluates Cursor as an alternative to GitHub Copilot.",
            "The mobile team finds Copilot weak on multi-file refactors.",
            "GitHub Copilot.",
            "developer month", "14000.00", 45, 0.06, 1_800,
            (on("Anysphere (Cursor)", models=("claude-sonnet-4", "gpt-4.1")),),
            (up("Stories delivered per sprint", "count", "22", "27", "0"),),
            kind="saas", tags=("seat-based",), stages=(S.PILOT,), owner="mei.lin", cost_centre="CC-4620",
            pool="Cursor Business",
        ),
        Template(
            "Project Switchboard — internal LLM gateway", C.OTHER,
            "One gateway for all model APIs: keys, quotas, logging, PII redaction and cost attribution per team.",
            "Forty API keys across five providers; nobody can say which team drives the bill.",
            "Teams signing up to model providers directly.",
            "request routed", "0.002", 4_000_000, 0.3, 6_500,
            (on("Microsoft", "OpenAI", "Anthropic", "Google",
                models=("gpt-4o", "claude-sonnet-4", "gemini-2.5-flash")),),
            (up("Model spend attributed to a team", "%", "20", "95", "0"),),
            kind="selfhosted", tags=("platform", "finops"), stages=(S.PRODUCTION,), owner="anika.sharma",
        ),
        Template(
            "Unit test generation for the policy admin system", C.CODE_ASSISTANT,
            "Generates characterisation tests for the legacy policy admin system before refactoring.",
            "Test coverage is 23%; every release needs two weeks of manual regression.",
            "Manual regression testing.",
            "test accepted", "35.00", 1_500, 0.6, 1_400,
            (on("Anthropic", models=("claude-sonnet-4",)),),
            (up("Line coverage", "%", "23", "60", "0"),
             down("Regression test days per release", "days", "10", "4", "0")),
            owner="mei.lin", cost_centre="CC-4620",
        ),
        Template(
            "Project Rosetta — COBOL to Java migration assistant", C.CODE_ASSISTANT,
            "LLM-assisted translation of 1.8M lines of COBOL from the life policy system, with equivalence tests.",
            "Two COBOL developers remain and the mainframe contract renews in 2028.",
            "A systems integrator quote of $14M for manual rewrite.",
            "program migrated", "5200.00", 40, 0.5, 16_000,
            (on("Anthropic", models=("claude-opus-4",)), on("OpenAI", models=("o3",))),
            (up("Programs migrated", "per month", "0", "40", "2600"),),
            tags=("legacy", "codename"), owner="anika.sharma",
        ),
        Template(
            "AIOps incident anomaly detection", C.ANOMALY_DETECTION,
            "Detects anomalies in logs and metrics of the quote and claims platforms before customers notice.",
            "Most incidents are reported by customers or brokers first.",
            "Static alert thresholds.",
            "incident detected early", "900.00", 25, 0.4, 3_400,
            (on("Amazon Web Services"),),
            (down("Mean time to detect", "minutes", "42", "8", "0"),),
            kind="platform", owner="noah.schmidt",
        ),
        Template(
            "Project Foundry — self-hosted Llama inference cluster", C.OTHER,
            "Rented H100 nodes serving Llama 3.3 70B and 8B to internal workloads that do not need a frontier model.",
            "High-volume classification workloads pay frontier prices per token.",
            "Calling hosted frontier APIs for every workload.",
            "million tokens served", "6.00", 3_000, 0.6, 19_000,
            (on("CoreWeave", "Meta", models=("llama-3.3-70b-instruct", "llama-3.1-8b-instruct")),),
            (down("Cost per million tokens", "USD", "6.00", "1.20", "3000"),),
            kind="selfhosted", tags=("platform", "open-weights", "finops"), owner="samuel.osei",
        ),
        Template(
            "Pull-request review bot", C.CODE_ASSISTANT,
            "Automated first review of pull requests: bugs, security smells, missing tests.",
            "Senior engineers spend a day a week on reviews.",
            "Peer review only.",
            "PR reviewed", "28.00", 2_200, 0.3, 1_100,
            (on("OpenAI", models=("o4-mini",)), on("Mistral AI", models=("codestral",))),
            (down("Review turnaround", "hours", "20", "6", "0"),),
            owner="noah.schmidt", variants=("", "(Codestral trial)"),
        ),
        Template(
            "Claude Code pilot for the platform team", C.CODE_ASSISTANT,
            "Agentic coding in the terminal for infrastructure-as-code and migration chores.",
            "Platform engineers spend a third of their time on toil tickets.",
            "GitHub Copilot and manual changes.",
            "toil ticket closed", "220.00", 300, 0.3, 2_400,
            (on("Anthropic", models=("claude-sonnet-4", "claude-opus-4")),),
            (down("Toil share of engineering time", "%", "33", "20", "0"),),
            tags=("seat-based",), owner="noah.schmidt",
        ),
        Template(
            "API documentation generator", C.CODE_ASSISTANT,
            "Generates and keeps current the documentation of 140 internal APIs from code and traffic.",
            "Half of internal APIs have no current documentation.",
            "Documentation written by developers, rarely.",
            "API documented", "400.00", 30, 0.6, 300,
            (on("Mistral AI", models=("codestral",)),),
            (up("APIs with current documentation", "%", "48", "95", "0"),),
            owner="mei.lin", cost_centre="CC-4620",
        ),
    ),
    "data": (
        Template(
            "Enterprise RAG platform", C.SEARCH_AND_KNOWLEDGE,
            "Shared retrieval service (ingestion, embeddings, vector store, evaluation) offered to all teams.",
            "Every team that builds a chatbot builds its own document pipeline.",
            "Team-by-team retrieval pipelines.",
            "query served", "0.05", 600_000, 0.4, 8_700,
            (on("Microsoft", "OpenAI", models=("text-embedding-3-large", "gpt-4o-mini")),),
            (up("Teams onboarded", "count", "0", "8", "0"),
             down("Cost per answered query", "USD", "0.05", "0.02", "0")),
            kind="platform", tags=("platform",), owner="samuel.osei", cost_centre="CC-4720",
        ),
        Template(
            "Ask the warehouse — natural-language BI ({v})", C.ANALYTICS_INSIGHTS,
            "Business users ask questions of the data warehouse in plain English through {v}.",
            "The analytics team has a six-week backlog of ad-hoc questions.",
            "Ad-hoc requests to analysts.",
            "question answered", "60.00", 1_200, 0.5, 4_300,
            (on("Snowflake", models=("mistral-large-2",)), on("Databricks", models=("llama-3.3-70b-instruct",))),
            (down("Ad-hoc request backlog", "requests", "340", "100", "0"),),
            kind="platform", variants=("Snowflake Cortex Analyst", "Databricks Genie"), owner="julia.novak",
        ),
        Template(
            "Customer 360 entity resolution", C.CLASSIFICATION,
            "ML matching of customers across policy, claims and CRM systems into one golden record.",
            "One in five customers exists three times; marketing mails them three times.",
            "Rule-based deduplication.",
            "record matched", "0.30", 200_000, 0.5, 2_800,
            (on("Databricks"),),
            (down("Duplicate customer records", "%", "19", "4", "0"),),
            kind="platform", tags=("pii",), owner="julia.novak", cost_centre="CC-4710",
        ),
        Template(
            "Synthetic test data generation", C.OTHER,
            "Generates realistic synthetic policy and claims data so non-production environments hold no PII.",
            "Masked production copies still leak PII into test environments.",
            "Masked copies of production.",
            "dataset generated", "800.00", 20, 0.5, 1_500,
            (on("Hugging Face", models=("mistral-small-3.1",)),),
            (down("Test environments holding PII", "count", "14", "0", "0"),),
            kind="selfhosted", tags=("pii", "open-weights"), owner="samuel.osei",
        ),
        Template(
            "Model monitoring and drift detection", C.ANOMALY_DETECTION,
            "Monitors production ML models for data drift and performance decay; feeds model risk reports.",
            "Pricing and fraud models degraded for months before anyone noticed.",
            "Annual model revalidation.",
            "model monitored", "400.00", 35, 0.5, 1_900,
            (on("Databricks"),),
            (down("Days to detect model decay", "days", "120", "7", "0"),),
            kind="platform", tags=("model-risk",), owner="samuel.osei", cost_centre="CC-4720",
        ),
        Template(
            "Data quality anomaly detection", C.ANOMALY_DETECTION,
            "Learns normal volumes and distributions of warehouse tables and alerts on breaks.",
            "Broken feeds are found by finance at month end.",
            "Hand-written data tests.",
            "table monitored", "12.00", 900, 0.5, 1_300,
            (on("Snowflake"),),
            (down("Data incidents found by consumers", "per month", "11", "2", "0"),),
            kind="platform", owner="julia.novak", cost_centre="CC-4710",
        ),
        Template(
            "Embedding model bake-off", C.SEARCH_AND_KNOWLEDGE,
            "Evaluation of open and hosted embedding models for the RAG platform on Northwind documents.",
            "Embedding choice was made by default, never measured.",
            "Default embedding model.",
            "evaluation run", "300.00", 10, 0.5, 600,
            (on("Cohere", "Hugging Face", models=("embed-english-v3.0", "bge-large-en-v1.5")),),
            (up("Retrieval recall@10", "%", "71", "85", "0"),),
            tags=("open-weights",), owner="samuel.osei", cost_centre="CC-4720",
        ),
        Template(
            "Project Compass — customer lifetime value model", C.FORECASTING,
            "Predicts the lifetime value of every customer to steer acquisition bids and retention offers.",
            "Acquisition is bid on first-year premium, ignoring retention and cross-sell.",
            "First-year premium as the value proxy.",
            "customer scored", "0.01", 1_400_000, 0.5, 2_600,
            (on("Databricks"),),
            (up("Lifetime value per acquired customer", "USD", "1150", "1300", "0"),),
            kind="platform", tags=("model-risk",), owner="julia.novak", cost_centre="CC-4710",
        ),
        Template(
            "Document AI shared service", C.DOCUMENT_PROCESSING,
            "One extraction service with per-document-type schemas, offered to claims, finance and operations.",
            "Five teams run five document extraction pipelines on four vendors.",
            "Team-by-team extraction tools.",
            "page processed", "0.40", 300_000, 0.4, 6_000,
            (on("Google", models=("gemini-2.5-flash",)), on("Meta", models=("llama-3.3-70b-instruct",))),
            (up("Teams consolidated onto the service", "count", "0", "5", "0"),),
            tags=("platform",), owner="samuel.osei", cost_centre="CC-4720", variants=("", "(open-weights track)"),
        ),
    ),
    "fin": (
        Template(
            "Invoice capture and coding ({v})", C.DOCUMENT_PROCESSING,
            "Extracts and codes {v} to GL accounts and cost centres with a confidence threshold for review.",
            "AP clerks key and code 14,000 invoices a month.",
            "Manual keying and coding in the ERP.",
            "invoice processed", "4.20", 14_000, 0.65, 5_100,
            (on("Microsoft", models=("gpt-4o-mini",)), on("Google", models=("gemini-2.0-flash",))),
            (down("Cost per invoice", "USD", "4.20", "1.50", "14000"), up("Touchless rate", "%", "0", "70", "0")),
            variants=("supplier invoices", "repairer and medical invoices"), owner="claire.dupont",
            cost_centre="CC-4820",
        ),
        Template(
            "Cash-flow forecasting", C.FORECASTING,
            "Thirteen-week cash forecast from claims payments, premiums and reinsurance recoveries.",
            "Treasury holds $60M of idle cash as a buffer against forecast error.",
            "Spreadsheet forecast by treasury analysts.",
            "forecast produced", "2500.00", 4, 0.5, 2_200,
            (on("Databricks"),),
            (down("Forecast error", "%", "12", "4", "0"), down("Idle cash buffer", "USD M", "60", "35", "1500")),
            kind="platform", owner="ahmed.karim",
        ),
        Template(
            "T&E expense anomaly detection", C.ANOMALY_DETECTION,
            "Flags duplicate, split and out-of-policy expense claims for audit.",
            "Only 3% of expense claims are audited.",
            "Random sampling by the expenses team.",
            "expense claim screened", "1.80", 9_000, 0.6, 900,
            (on("OpenAI", models=("gpt-4o-mini",)),),
            (up("Out-of-policy spend recovered", "USD per month", "4000", "15000", "1"),),
            owner="claire.dupont", cost_centre="CC-4820",
        ),
        Template(
            "Month-end close commentary drafting", C.CONTENT_GENERATION,
            "Drafts variance commentary for management accounts from the ledger and budget.",
            "Business partners spend three days a month writing variance commentary.",
            "Commentary written by finance business partners.",
            "commentary pack", "2400.00", 14, 0.5, 1_100,
            (on("Anthropic", models=("claude-sonnet-4",)), on("Microsoft", models=("gpt-4o",))),
            (down("Days to close", "days", "9", "6", "0"),),
            tags=("genai",), owner="ahmed.karim",
        ),
        Template(
            "Agentic AP exception handling", C.AGENTIC_AUTOMATION,
            "An agent resolves price and quantity mismatches by e-mailing suppliers and updating the ERP.",
            "Two thousand invoice exceptions a month wait on AP clerks.",
            "Clerks chasing suppliers by e-mail.",
            "exception resolved", "14.00", 2_000, 0.55, 2_400,
            (on("UiPath", "OpenAI", models=("gpt-4.1",)),),
            (down("Open exceptions", "count", "2000", "500", "6"),),
            kind="platform", owner="claire.dupont", cost_centre="CC-4820",
        ),
        Template(
            "IFRS 17 disclosure drafting", C.DOCUMENT_PROCESSING,
            "Drafts the narrative disclosures of the IFRS 17 notes from the actuarial results.",
            "The disclosures take the reporting team four weeks each quarter.",
            "Manual drafting and review.",
            "disclosure section drafted", "900.00", 30, 0.4, 1_000,
            (on("OpenAI", models=("o3",)),),
            (down("Drafting weeks per quarter", "weeks", "4", "2", "0"),),
            tags=("regulatory",), owner="ahmed.karim",
        ),
        Template(
            "Premium collection leakage detection", C.ANOMALY_DETECTION,
            "Finds policies on cover whose premiums were never collected or were refunded twice.",
            "Reconciliation finds premium leakage months late, if ever.",
            "Quarterly reconciliations.",
            "policy checked", "0.15", 400_000, 0.5, 900,
            (on("Snowflake"),),
            (up("Leakage recovered", "USD per month", "12000", "45000", "1"),),
            kind="platform", owner="ahmed.karim",
        ),
    ),
    "hr": (
        Template(
            "People helpdesk assistant", C.CONVERSATIONAL_ASSISTANT,
            "Answers employees' questions on leave, benefits, payroll and policies in Teams.",
            "The HR service centre answers 5,000 routine questions a month.",
            "HR service centre tickets and calls.",
            "question answered", "8.00", 5_000, 0.6, 2_300,
            (on("Microsoft", "OpenAI", models=("gpt-4o",)), on("Workday")),
            (down("HR tickets", "per month", "5000", "2500", "8"),),
            tags=("employee-facing", "pii"), owner="fatima.zahra", cost_centre="CC-4910",
        ),
        Template(
            "CV screening assistant", C.CLASSIFICATION,
            "Ranks applicants against the job requirements for high-volume contact-centre roles.",
            "Recruiters screen 3,000 CVs a month for contact-centre roles.",
            "Manual CV screening.",
            "CV screened", "6.00", 3_000, 0.7, 1_600,
            (on("Workday"),),
            (down("Time to shortlist", "days", "8", "2", "0"),),
            kind="saas", tags=("high-risk", "bias-review"), stages=(S.REJECTED,), owner="liam.oconnor",
            cost_centre="CC-4920",
        ),
        Template(
            "Job description generator", C.CONTENT_GENERATION,
            "Drafts inclusive job descriptions from the role profile and pay band.",
            "Job adverts are inconsistent and take hiring managers an hour each.",
            "Hiring managers writing adverts.",
            "job description drafted", "70.00", 150, 0.6, 300,
            (on("OpenAI", models=("gpt-4o-mini",)),),
            (down("Time to post a vacancy", "days", "6", "2", "0"),),
            owner="liam.oconnor", cost_centre="CC-4920",
        ),
        Template(
            "Zoom AI Companion for HR meetings", C.SPEECH_AND_AUDIO,
            "Meeting summaries and action items for HR business partners' Zoom meetings.",
            "HR business partners kept their Zoom licences and wanted summaries like the rest of the company.",
            "Notes by hand.",
            "meeting summarised", "15.00", 600, 0.5, 400,
            (on("Zoom"),),
            (up("Meetings with shared notes", "%", "30", "85", "0"),),
            kind="saas", tags=("shadow-it", "pii"), owner="fatima.zahra",
        ),
        Template(
            "Attrition risk forecasting", C.FORECASTING,
            "Predicts regretted attrition by team to target retention actions.",
            "Contact-centre attrition is 38% a year.",
            "Exit interviews.",
            "employee scored", "1.50", 4_000, 0.3, 800,
            (on("Workday"),),
            (down("Regretted attrition", "%", "38", "30", "0"),),
            kind="saas", tags=("high-risk", "pii"), stages=(S.KILLED,), owner="nadia.haddad",
        ),
        Template(
            "Personalised learning paths", C.PERSONALIZATION,
            "Recommends courses and internal gigs from skills profiles.",
            "Mandatory training dominates; development budgets are underused.",
            "Course catalogue browsing.",
            "learning plan", "40.00", 500, 0.3, 900,
            (on("Workday"),),
            (up("Learning hours per employee", "hours per year", "11", "20", "0"),),
            kind="saas", owner="fatima.zahra",
        ),
        Template(
            "Employee survey comment analysis", C.ANALYTICS_INSIGHTS,
            "Themes and sentiment from 12,000 free-text survey comments.",
            "Survey comments are read by two people over three weeks.",
            "Manual reading and coding of comments.",
            "comment coded", "0.90", 12_000, 0.8, 200,
            (on("Anthropic", models=("claude-3-5-haiku",)),),
            (down("Weeks to publish survey themes", "weeks", "3", "0.5", "0"),),
            owner="nadia.haddad",
        ),
        Template(
            "Interview scheduling agent", C.AGENTIC_AUTOMATION,
            "Schedules interview panels across calendars and candidates by e-mail.",
            "Recruiting coordinators spend 40% of their time scheduling.",
            "Coordinators e-mailing candidates and panels.",
            "interview scheduled", "18.00", 900, 0.7, 700,
            (on("Workday"),),
            (down("Days from shortlist to interview", "days", "9", "3", "0"),),
            kind="saas", owner="liam.oconnor", cost_centre="CC-4920",
        ),
        Template(
            "New-joiner onboarding buddy", C.CONVERSATIONAL_ASSISTANT,
            "A chatbot for new joiners' first 90 days: systems, people, policies.",
            "New joiners ask the same questions of their managers and IT.",
            "Onboarding pack and manager time.",
            "question answered", "6.00", 1_500, 0.6, 500,
            (on("Google", models=("gemini-2.5-flash",)),),
            (up("New-joiner satisfaction at 90 days", "points", "68", "80", "0"),),
            tags=("employee-facing",), owner="fatima.zahra",
        ),
    ),
    "legal": (
        Template(
            "Contract summariser (Harvey)", C.DOCUMENT_PROCESSING,
            "Harvey for the legal team: contract summaries, clause comparison and first-draft advice notes.",
            "Counsel spend most of their time reading third-party paper.",
            "Lawyers and external counsel reading contracts.",
            "contract reviewed", "310.00", 160, 0.4, 2_700,
            (on("Harvey", models=("gpt-4o",)),),
            (down("External counsel spend", "USD per month", "85000", "60000", "1"),),
            kind="saas", tags=("seat-based", "privileged"), owner="isabel.moreno", pool="Harvey",
        ),
        Template(
            "Luminance contract review", C.DOCUMENT_PROCESSING,
            "Luminance for reinsurance and outsourcing contracts, bought before Harvey was chosen.",
            "Reinsurance wordings are reviewed against the standard clause library by hand.",
            "Manual clause-by-clause review.",
            "contract reviewed", "420.00", 40, 0.4, 3_800,
            (on("Luminance"),),
            (down("Review time per treaty", "hours", "6", "2", "0"),),
            kind="saas", tags=("privileged",), owner="jonathan.pryce",
        ),
        Template(
            "NDA triage and auto-approval", C.AGENTIC_AUTOMATION,
            "Checks incoming NDAs against the playbook and approves standard ones without a lawyer.",
            "Legal reviews 120 NDAs a month; 80% are standard.",
            "Every NDA reviewed by counsel.",
            "NDA processed", "150.00", 120, 0.7, 600,
            (on("Anthropic", models=("claude-sonnet-4",)),),
            (down("NDA turnaround", "days", "4", "0.5", "0"),),
            owner="isabel.moreno",
        ),
        Template(
            "Legal research assistant", C.SEARCH_AND_KNOWLEDGE,
            "Cited answers over case law subscriptions and the internal opinion library.",
            "Research questions repeat across counsel; old opinions are hard to find.",
            "Keyword search in the document management system.",
            "research question", "200.00", 80, 0.4, 900,
            (on("Cohere", models=("command-r-plus", "embed-english-v3.0")),),
            (down("Research hours per question", "hours", "2.5", "1", "150"),),
            owner="isabel.moreno",
        ),
        Template(
            "Regulatory change summaries", C.CONTENT_GENERATION,
            "Weekly summaries of new rules and guidance from insurance regulators, routed to affected owners.",
            "Regulatory horizon scanning is a monthly spreadsheet.",
            "Manual horizon scanning.",
            "publication summarised", "60.00", 200, 0.6, 400,
            (on("OpenAI", models=("gpt-4o",)),),
            (down("Days from publication to owner notified", "days", "21", "3", "0"),),
            tags=("regulatory",), owner="jonathan.pryce",
        ),
        Template(
            "E-discovery document review", C.CLASSIFICATION,
            "Technology-assisted review for litigation disclosure.",
            "Disclosure on large claims litigation costs $200,000 per case.",
            "Contract reviewers through outside counsel.",
            "document reviewed", "1.20", 40_000, 0.5, 4_500,
            (on("Microsoft"),),
            (down("Review cost per case", "USD", "200000", "90000", "0.1"),),
            kind="saas", tags=("privileged",), owner="jonathan.pryce",
        ),
        Template(
            "Contract summaries in ChatGPT Enterprise", C.DOCUMENT_PROCESSING,
            "A custom GPT the commercial team built to summarise supplier and distribution contracts.",
            "The commercial team could not get Harvey seats.",
            "Reading contracts or waiting for legal.",
            "contract summarised", "120.00", 90, 0.5, 200,
            (on("OpenAI", models=("gpt-4o",)),),
            (down("Contracts sent to legal for a summary", "per month", "90", "30", "120"),),
            tags=("shadow-it", "privileged"), owner="isabel.moreno",
        ),
    ),
    "ops": (
        Template(
            "Inbound mail digitisation and routing", C.DOCUMENT_PROCESSING,
            "Scans, classifies and routes 90,000 letters and forms a month to the right work queue.",
            "Post is sorted by hand and takes two days to reach a handler.",
            "Mailroom sorting and indexing by hand.",
            "item routed", "0.85", 90_000, 0.55, 7_800,
            (on("Amazon Web Services", models=("amazon-nova-pro",)),),
            (down("Time from receipt to queue", "hours", "48", "4", "0"), down("Misrouted items", "%", "6", "1", "3")),
            owner="amara.nwosu", cost_centre="CC-5120",
        ),
        Template(
            "Policy endorsement processing agent", C.AGENTIC_AUTOMATION,
            "An agent applies mid-term changes (address, vehicle, drivers) from e-mails to the policy system.",
            "Mid-term adjustments wait five days in the operations queue.",
            "Operations clerks keying changes.",
            "endorsement processed", "9.50", 20_000, 0.6, 8_900,
            (on("UiPath", "OpenAI", models=("gpt-4o",)), on("Anthropic", models=("claude-sonnet-4",))),
            (down("Endorsement turnaround", "days", "5", "1", "0"), up("Straight-through rate", "%", "0", "60", "0")),
            kind="platform", owner="peter.lindqvist", variants=("", "(commercial lines)"),
        ),
        Template(
            "Back-office workload forecasting", C.FORECASTING,
            "Forecasts work-queue volumes per team and skill for staffing.",
            "Queues build up after renewals and catastrophes.",
            "Manager experience.",
            "weekly forecast", "900.00", 4, 0.4, 300,
            (on("Databricks"),),
            (down("Overtime hours", "hours per month", "2400", "1500", "48"),),
            kind="platform", owner="peter.lindqvist",
        ),
        Template(
            "Policy document translation", C.TRANSLATION,
            "Translates policy schedules and letters for customers who request another language.",
            "Translation agencies take ten days and charge per word.",
            "Translation agency.",
            "document translated", "95.00", 300, 0.8, 700,
            (on("DeepL"),),
            (down("Translation turnaround", "days", "10", "1", "0"),),
            kind="saas", tags=("customer-facing",), owner="rosa.delgado",
        ),
        Template(
            "Form completeness and signature checks", C.COMPUTER_VISION,
            "Checks scanned proposal forms for missing signatures, dates and mandatory fields.",
            "One in eight forms is incomplete and found only at underwriting.",
            "Visual checks by operations clerks.",
            "form checked", "0.70", 25_000, 0.7, 1_200,
            (on("Microsoft"),),
            (down("Incomplete forms reaching underwriting", "%", "12", "2", "0"),),
            kind="saas", owner="amara.nwosu", cost_centre="CC-5120",
        ),
        Template(
            "Process mining recommendations", C.ANALYTICS_INSIGHTS,
            "Process mining of the claims and policy workflows with generated improvement recommendations.",
            "Nobody sees where work waits end to end.",
            "Lean workshops.",
            "process analysed", "5000.00", 3, 0.3, 2_500,
            (on("Microsoft"),),
            (down("Average end-to-end cycle time", "days", "14", "10", "0"),),
            kind="saas", owner="peter.lindqvist",
        ),
        Template(
            "Vehicle registration document reader", C.COMPUTER_VISION,
            "Reads photos of vehicle registration documents to fill vehicle details at quote and claim.",
            "Customers mistype registration details; 7% of motor policies carry wrong vehicle data.",
            "Manual keying from photos and scans.",
            "document read", "1.20", 15_000, 0.7, 900,
            (on("Google", models=("gemini-2.0-flash",)),),
            (down("Policies with wrong vehicle data", "%", "7", "1", "0"),),
            owner="amara.nwosu", cost_centre="CC-5120",
        ),
        Template(
            "Customer correspondence drafting", C.CONTENT_GENERATION,
            "Drafts non-standard letters for operations teams from the case notes.",
            "Bespoke letters take 25 minutes each and are inconsistent.",
            "Letters written from scratch.",
            "letter drafted", "21.00", 6_000, 0.5, 1_600,
            (on("Microsoft", "OpenAI", models=("gpt-4o-mini",)),),
            (down("Minutes per bespoke letter", "minutes", "25", "8", "0.8"),),
            tags=("genai", "customer-facing"), owner="peter.lindqvist",
        ),
    ),
    "it": (
        Template(
            "Microsoft 365 Copilot enterprise rollout", C.CONTENT_GENERATION,
            "Copilot in Outlook, Teams, Word and Excel for 2,400 knowledge workers in three waves.",
            "Leadership expects productivity gains and nobody measures them.",
            "Office work without an assistant.",
            "active user month", "72.00", 2_400, 0.4, 72_000,
            (on("Microsoft", models=("gpt-4o",)),),
            (up("Monthly active seats", "%", "0", "80", "0"),
             down("Hours saved per user", "hours per week", "0", "2", "0")),
            kind="saas", tags=("seat-based", "employee-facing"), stages=(S.PRODUCTION,), owner="diego.ramos",
            pool="Microsoft 365 Copilot",
        ),
        Template(
            "ChatGPT Enterprise for knowledge workers", C.CONVERSATIONAL_ASSISTANT,
            "ChatGPT Enterprise for teams who asked for it while the Copilot rollout was under way.",
            "Employees were pasting data into consumer ChatGPT.",
            "Consumer chatbots on personal accounts.",
            "active user month", "400.00", 400, 0.2, 24_000,
            (on("OpenAI", models=("gpt-4o", "o3")),),
            (up("Weekly active seats", "%", "0", "75", "0"),),
            kind="saas", tags=("seat-based", "shadow-it"), stages=(S.PILOT,), owner="kwame.mensah",
            pool="ChatGPT Enterprise",
        ),
        Template(
            "Claude Team for analysts", C.CONVERSATIONAL_ASSISTANT,
            "Claude Team seats for actuarial and analytics staff working with long documents.",
            "Analysts asked for longer context than Copilot offered.",
            "Consumer chatbots.",
            "active user month", "300.00", 120, 0.2, 3_600,
            (on("Anthropic", models=("claude-sonnet-4", "claude-opus-4")),),
            (up("Weekly active seats", "%", "0", "70", "0"),),
            kind="saas", tags=("seat-based",), owner="diego.ramos", pool="Claude Team",
        ),
        Template(
            "Now Assist for the IT service desk", C.CONVERSATIONAL_ASSISTANT,
            "ServiceNow virtual agent and incident summarisation for employee IT requests.",
            "The service desk handles 11,000 tickets a month, 40% of them password and access requests.",
            "Service desk agents on phone and portal.",
            "ticket resolved", "16.00", 11_000, 0.35, 9_800,
            (on("ServiceNow"),),
            (up("Self-service resolution", "%", "12", "40", "14"),
             down("Mean time to resolve", "hours", "19", "8", "0")),
            kind="saas", tags=("employee-facing",), owner="sarah.goldberg", cost_centre="CC-5220",
        ),
        Template(
            "Teams Premium intelligent recap", C.SPEECH_AND_AUDIO,
            "Meeting recaps, chapters and tasks in Teams for the 800 heaviest meeting users.",
            "Managers spend 20 hours a week in meetings and take no notes.",
            "Notes by hand.",
            "meeting recapped", "9.00", 20_000, 0.4, 8_000,
            (on("Microsoft", models=("gpt-4o",)),),
            (up("Meetings with recap", "%", "0", "60", "0"),),
            kind="saas", tags=("seat-based",), owner="diego.ramos", pool="Teams Premium (intelligent recap)",
        ),
        Template(
            "Phishing e-mail classification", C.CLASSIFICATION,
            "Classifies reported and quarantined e-mails and auto-closes false positives.",
            "The SOC triages 3,000 user-reported e-mails a month by hand.",
            "Manual triage of the phishing mailbox.",
            "e-mail triaged", "3.50", 3_000, 0.8, 700,
            (on("Microsoft", models=("phi-4",)),),
            (down("Triage time", "minutes", "6", "1", "0"),),
            kind="selfhosted", tags=("security", "open-weights"), owner="yusuf.demir", cost_centre="CC-5230",
        ),
        Template(
            "SOC alert triage copilot", C.ANOMALY_DETECTION,
            "Summarises and correlates SIEM alerts and proposes containment steps.",
            "Analysts close 70% of alerts as benign after 20 minutes of investigation.",
            "Tier-1 SOC analysts.",
            "alert triaged", "28.00", 4_000, 0.5, 6_200,
            (on("Microsoft", models=("gpt-4o",)),),
            (down("Mean time to triage", "minutes", "20", "6", "0"),),
            kind="saas", tags=("security",), owner="yusuf.demir", cost_centre="CC-5230",
        ),
        Template(
            "Password reset voice agent", C.AGENTIC_AUTOMATION,
            "Voice agent that verifies the caller and resets passwords and MFA.",
            "A fifth of service desk calls are password resets.",
            "Service desk agents.",
            "reset completed", "12.00", 2_200, 0.8, 1_400,
            (on("Google", models=("gemini-2.5-flash",)),),
            (down("Password reset calls to agents", "per month", "2200", "400", "12"),),
            tags=("security",), owner="sarah.goldberg", cost_centre="CC-5220",
        ),
        Template(
            "Grammarly Business for client-facing writers", C.CONTENT_GENERATION,
            "Grammarly seats for customer service, claims and sales writers.",
            "Complaints cite unclear letters; the style guide is not followed.",
            "Manual proofreading.",
            "active user month", "25.00", 300, 0.3, 4_500,
            (on("Grammarly"),),
            (up("Letters meeting the plain-language standard", "%", "55", "85", "0"),),
            kind="saas", tags=("seat-based",), owner="diego.ramos",
        ),
        Template(
            "Shadow AI discovery from proxy logs", C.OTHER,
            "Finds AI tools in use from web proxy and expense data and feeds them into the inventory.",
            "Nobody knows which AI tools employees use or pay for on cards.",
            "Annual software audit.",
            "tool discovered", "600.00", 15, 0.5, 700,
            (on("Microsoft"),),
            (up("AI tools under governance", "%", "40", "95", "0"),),
            kind="saas", tags=("security", "finops"), owner="yusuf.demir", cost_centre="CC-5230",
        ),
        Template(
            "Knowledge articles from resolved tickets", C.CONTENT_GENERATION,
            "Drafts knowledge articles from resolved service-desk tickets for review by senior agents.",
            "The same fixes are rediscovered each month; the knowledge base is stale.",
            "Senior agents writing articles when they have time.",
            "article published", "90.00", 120, 0.6, 300,
            (on("ServiceNow"),),
            (up("Tickets solved with an article", "%", "18", "40", "0"),),
            kind="saas", owner="sarah.goldberg", cost_centre="CC-5220",
        ),
    ),
    "risk": (
        Template(
            "AML transaction monitoring alert scoring", C.ANOMALY_DETECTION,
            "Scores AML alerts on premium payments and claims payouts to prioritise investigations.",
            "95% of AML alerts are false positives and the backlog is three months.",
            "Rule-based alerts investigated in order.",
            "alert scored", "22.00", 3_500, 0.5, 5_600,
            (on("Amazon Web Services"),),
            (down("Alert backlog", "alerts", "9000", "1500", "4"), down("False-positive rate", "%", "95", "80", "0")),
            kind="platform", tags=("regulatory", "model-risk"), owner="elena.petrova", cost_centre="CC-5320",
        ),
        Template(
            "Sanctions screening false-positive reduction", C.CLASSIFICATION,
            "Second-level model that clears obvious name-match false positives in sanctions screening.",
            "Analysts clear 6,000 false name matches a month.",
            "Manual clearance of every match.",
            "match reviewed", "5.00", 6_000, 0.6, 1_900,
            (on("Anthropic", models=("claude-3-5-haiku",)),),
            (down("Manual reviews", "per month", "6000", "1800", "5"),),
            tags=("regulatory",), owner="elena.petrova", cost_centre="CC-5320",
        ),
        Template(
            "Policy and procedure summariser for attestations", C.DOCUMENT_PROCESSING,
            "Summarises internal policies and maps them to controls for the annual attestations.",
            "Policy owners spend weeks preparing attestation evidence.",
            "Manual mapping in spreadsheets.",
            "policy mapped", "180.00", 60, 0.5, 500,
            (on("OpenAI", models=("gpt-4o",)),),
            (down("Hours per attestation", "hours", "30", "10", "95"),),
            owner="ingrid.larsen",
        ),
        Template(
            "Regulatory complaint classification", C.CLASSIFICATION,
            "Classifies complaints by root cause and regulatory category for the monthly complaints return.",
            "The complaints return is compiled by hand and was restated twice.",
            "Manual coding by complaints handlers.",
            "complaint classified", "4.00", 2_500, 0.6, 500,
            (on("OpenAI", models=("gpt-4o-mini",)), on("Mistral AI", models=("mistral-small-3.1",))),
            (down("Coding errors found in QA", "%", "9", "2", "0"),),
            tags=("regulatory",), owner="ingrid.larsen", variants=("", "(open-weights rebuild)"),
        ),
        Template(
            "Model risk documentation generator", C.CONTENT_GENERATION,
            "Drafts model documentation and validation reports from code, data and test results.",
            "Model documentation is months behind the models in production.",
            "Model owners writing documents by hand.",
            "document drafted", "2200.00", 6, 0.5, 700,
            (on("Anthropic", models=("claude-opus-4",)),),
            (down("Models without current documentation", "count", "23", "5", "0"),),
            tags=("model-risk",), owner="george.whitfield",
        ),
        Template(
            "Conduct risk call monitoring", C.SPEECH_AND_AUDIO,
            "Screens sales calls for mis-selling indicators and vulnerable-customer signals.",
            "Compliance samples 1% of sales calls.",
            "Sampled compliance listening.",
            "call screened", "1.50", 9_000, 0.5, 2_900,
            (on("OpenAI", models=("whisper-large-v3", "gpt-4o-mini")),),
            (up("Vulnerable customers identified", "per month", "40", "150", "0"),),
            tags=("regulatory", "call-recordings"), owner="george.whitfield",
        ),
        Template(
            "Third-party AI risk assessments", C.OTHER,
            "Assesses vendors' AI features (data use, model training, hosting) before contract signature.",
            "AI features arrive in existing SaaS tools without any risk review.",
            "Generic security questionnaires.",
            "vendor assessed", "1200.00", 15, 0.4, 400,
            (on("Anthropic", models=("claude-sonnet-4",)),),
            (up("AI vendors assessed before go-live", "%", "20", "100", "0"),),
            tags=("regulatory",), owner="george.whitfield",
        ),
        Template(
            "Operational loss event classification", C.CLASSIFICATION,
            "Classifies operational loss events by Basel category and root cause from incident reports.",
            "Loss events are miscoded, so capital models understate some risks.",
            "Risk champions coding events manually.",
            "event classified", "30.00", 250, 0.5, 300,
            (on("Mistral AI", models=("mistral-small-3.1",)),),
            (down("Reclassified events at audit", "%", "22", "5", "0"),),
            owner="ingrid.larsen",
        ),
    ),
    "proc": (
        Template(
            "Supplier contract clause extraction", C.DOCUMENT_PROCESSING,
            "Extracts renewal dates, price escalators, liability caps and data clauses from 2,600 supplier "
            "contracts.",
            "Contracts auto-renew because nobody knows the notice dates.",
            "Contract register maintained by hand.",
            "contract extracted", "55.00", 220, 0.7, 800,
            (on("Anthropic", models=("claude-sonnet-4",)),),
            (down("Unplanned auto-renewals", "per year", "35", "5", "0"),),
            owner="hana.sato", cost_centre="CC-5420",
        ),
        Template(
            "Spend classification", C.CLASSIFICATION,
            "Classifies purchase-order and card spend into the category taxonomy.",
            "30% of spend is uncategorised, so category strategies miss it.",
            "Manual classification by analysts once a year.",
            "transaction classified", "0.40", 30_000, 0.8, 400,
            (on("OpenAI", models=("gpt-4o-mini",)),),
            (down("Uncategorised spend", "%", "30", "5", "0"),),
            owner="hana.sato",
        ),
        Template(
            "Supplier risk news monitoring", C.ANALYTICS_INSIGHTS,
            "Monitors news and filings for financial, cyber and ESG events at critical suppliers.",
            "A key claims supplier's insolvency was learned from the press.",
            "Annual supplier reviews.",
            "supplier monitored", "8.00", 400, 0.4, 700,
            (on("Google", models=("gemini-2.5-flash",)),),
            (down("Supplier events found late", "per year", "6", "1", "0"),),
            owner="victor.almeida", cost_centre="CC-5420",
        ),
        Template(
            "RFP evaluation assistant", C.CONTENT_GENERATION,
            "Compares supplier responses against the evaluation criteria and drafts the scoring rationale.",
            "Evaluators read 400 pages per RFP.",
            "Manual evaluation.",
            "RFP evaluated", "3000.00", 5, 0.4, 300,
            (on("OpenAI", models=("gpt-4o",)),),
            (down("Evaluation days per RFP", "days", "10", "5", "0"),),
            owner="victor.almeida",
        ),
        Template(
            "Autonomous tail-spend negotiation agent", C.AGENTIC_AUTOMATION,
            "An agent negotiates small purchases by e-mail with suppliers within pre-approved limits.",
            "Tail spend under $10,000 is never negotiated.",
            "No negotiation.",
            "purchase negotiated", "90.00", 300, 0.3, 1_500,
            (on("OpenAI", models=("o3",)),),
            (up("Savings on tail spend", "%", "0", "6", "0"),),
            tags=("high-risk",), owner="victor.almeida",
        ),
        Template(
            "Invoice-to-contract compliance checks", C.ANOMALY_DETECTION,
            "Compares supplier invoices to contracted rates and flags overcharges.",
            "An audit found 3% overbilling by panel repairers and IT contractors.",
            "Spot checks by procurement.",
            "invoice checked", "2.50", 12_000, 0.5, 1_100,
            (on("OpenAI", models=("gpt-4.1-mini",)),),
            (up("Overcharges recovered", "USD per month", "5000", "30000", "1"),),
            owner="hana.sato", cost_centre="CC-5420",
        ),
        Template(
            "Supplier onboarding document checks", C.DOCUMENT_PROCESSING,
            "Checks insurance certificates, accreditations and bank letters submitted by new suppliers.",
            "Supplier onboarding takes three weeks; documents are checked by hand.",
            "Manual document checks.",
            "supplier onboarded", "140.00", 60, 0.5, 400,
            (on("Google", models=("gemini-2.5-flash",)),),
            (down("Days to onboard a supplier", "days", "21", "7", "0"),),
            owner="victor.almeida", cost_centre="CC-5410", variants=("", "(claims supply chain)"),
        ),
    ),
}


# --- Expansion into initiatives -----------------------------------------------------------------------------------

STAGE_WEIGHTS = {
    Stage.PROPOSED: 10, Stage.IN_REVIEW: 8, Stage.CHANGES_REQUESTED: 5, Stage.APPROVED: 8, Stage.PILOT: 26,
    Stage.PRODUCTION: 27, Stage.RETIRED: 6, Stage.REJECTED: 5, Stage.KILLED: 5,
}
# (earliest, latest) days before the reference date an initiative in this stage started; negative = planned start.
START_DAYS_AGO = {
    Stage.PROPOSED: (-120, -14), Stage.IN_REVIEW: (-90, -7), Stage.CHANGES_REQUESTED: (-60, 10),
    Stage.APPROVED: (10, 120), Stage.PILOT: (60, 720), Stage.PRODUCTION: (180, 1000), Stage.RETIRED: (600, 1060),
    Stage.REJECTED: (30, 500), Stage.KILLED: (200, 900),
}
# A pilot older than this never ended: the "thousand pilots" problem the demo should show.
PILOT_OVERDUE_DAYS = 270
TCO_SPLIT = {  # share of the run cost per TCO line: inference, compute, storage, licences, maintenance
    "api": (0.62, 0.0, 0.06, 0.0, 0.32),
    "saas": (0.0, 0.0, 0.02, 0.86, 0.12),
    "platform": (0.30, 0.0, 0.08, 0.45, 0.17),
    "selfhosted": (0.0, 0.66, 0.09, 0.0, 0.25),
}
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
PRICE_QUANTUM = Decimal("0.0001")


@dataclass
class InitiativeSpec:
    """Everything the builder writes for one initiative, as plain values (names, codes and e-mails)."""

    external_id: str
    name: str
    description: str
    category: str
    department: str  # Department.name
    cost_centre: str  # CostCentre.code
    owner: str  # e-mail
    delegates: list[str]
    stage: str
    vendors: list[str]
    models: list[str]
    start_date: date
    tags: list[str]
    declared_monthly_cost: Decimal
    business_case: dict | None
    kpis: list[dict] = field(default_factory=list)
    pool: str | None = None


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _round_cost(value: float) -> Decimal:
    """Declared costs are round numbers, as people declare them."""
    step = 10 if value < 5_000 else 50
    return Decimal(max(150, int(round(value / step)) * step))


def _pool(tool: str) -> Pool:
    return next(p for p in LICENCE_POOLS if p.tool == tool)


def _draw_stages(rng: random.Random, fixed: list[Stage | None]) -> list[Stage]:
    """Draw stages for the initiatives without a fixed one, then make sure every stage appears at least once."""
    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    drawn = [f if f is not None else rng.choices(stages, weights)[0] for f in fixed]
    free = [i for i, f in enumerate(fixed) if f is None]
    for stage in stages:
        if stage not in drawn:
            counts = {s: drawn.count(s) for s in stages}
            donor = max((i for i in free if counts[drawn[i]] > 1), key=lambda i: (counts[drawn[i]], -i))
            drawn[donor] = stage
    return drawn


def _business_case(
    tpl: Template,
    dept: Department,
    rng: random.Random,
    *,
    scale: float,
    run_cost: Decimal,
    licences: Decimal | None,
    stage: Stage,
    start: date,
) -> dict | None:
    """Business case fields, or None for a bare proposal; drafts of proposals carry only the problem."""
    if stage == Stage.PROPOSED:
        if rng.random() < 0.5:
            return None
        return {"problem": tpl.problem, "process_replaced": tpl.process}
    baseline = Decimal(tpl.baseline).quantize(PRICE_QUANTUM)
    volume = max(1, int(round(tpl.volume * scale)))
    split = TCO_SPLIT[tpl.kind]
    lines = [_money(float(run_cost) * share) for share in split]
    if licences is not None:
        lines[3] = licences
    oversight_hours = Decimal(str(max(2, round(tpl.oversight * scale * rng.uniform(0.6, 1.6))))).quantize(TENTH)
    rate = Decimal(dept.loaded_hourly_rate)
    expected_value = _money(baseline * volume * Decimal(str(tpl.savings)) * Decimal(str(rng.uniform(0.8, 1.25))))
    tco = sum(lines, Decimal("0")) + oversight_hours * rate
    saving_per_outcome = baseline * Decimal(str(tpl.savings))
    min_viable = int((tco / saving_per_outcome).to_integral_value(rounding=ROUND_CEILING))
    unit_cost_target = (baseline * (1 - Decimal(str(tpl.savings)))).quantize(CENT)
    due = start + timedelta(days=270)
    target_quarter = f"Q{(due.month - 1) // 3 + 1} {due.year}"
    first = tpl.kpis[0]
    sep = "" if first.unit == "%" else " "
    case = {
        "problem": tpl.problem,
        "process_replaced": tpl.process,
        "baseline_cost_per_outcome": baseline,
        "outcome_unit": tpl.outcome,
        "expected_monthly_volume": volume,
        "targets": (
            f"Cost per {tpl.outcome} from ${baseline:.2f} to ${unit_cost_target} at {volume:,} a month by "
            f"{target_quarter}; {first.name.lower()} from {first.baseline}{sep}{first.unit} "
            f"to {first.target}{sep}{first.unit}."
        ),
        "tco_inference": lines[0],
        "tco_compute": lines[1],
        "tco_storage": lines[2],
        "tco_licences": lines[3],
        "oversight_hours_per_month": oversight_hours,
        "loaded_hourly_rate": _money(rate),
        "tco_maintenance": lines[4],
        "expected_monthly_value": expected_value,
        "min_viable_scale": min_viable,
        "success_criteria": (
            f"{first.name} reaches {first.target}{sep}{first.unit} within two quarters of launch; at least "
            f"{min_viable:,} a month ({tpl.outcome}, the minimum viable scale); error and complaint rates no worse "
            f"than today's process."
        ),
    }
    return case


def _kpis(tpl: Template, rng: random.Random) -> list[dict]:
    rows = []
    for kpi in tpl.kpis:
        jitter = Decimal(str(round(rng.uniform(0.92, 1.08), 2)))
        baseline = Decimal(kpi.baseline)
        rows.append({
            "name": kpi.name,
            "unit": kpi.unit,
            "baseline": (baseline * jitter).quantize(PRICE_QUANTUM) if baseline else baseline.quantize(PRICE_QUANTUM),
            "target": Decimal(kpi.target).quantize(PRICE_QUANTUM),
            "direction": kpi.direction.value,
            "value_per_unit": Decimal(kpi.value_per_unit).quantize(PRICE_QUANTUM),
        })
    return rows


def initiative_specs() -> list[InitiativeSpec]:
    """The company's initiatives, identical on every call: one seeded generator, one reference date."""
    rng = random.Random(SEED)
    slots: list[tuple[Department, Template, int, str]] = []
    fixed: list[Stage | None] = []
    for dept in DEPARTMENTS:
        for tpl in TEMPLATES[dept.key]:
            for i, variant in enumerate(tpl.variants):
                slots.append((dept, tpl, i, variant))
                fixed.append(tpl.stages[i] if i < len(tpl.stages) else None)
    stages = _draw_stages(rng, fixed)
    people_by_dept = {
        # The demo logins own exactly what their templates say, so a demo walk-through is predictable.
        d.key: [p.email for p in PEOPLE if p.department == d.key and p.role == Role.OWNER] for d in DEPARTMENTS
    }
    specs = []
    for number, ((dept, tpl, index, variant), stage) in enumerate(zip(slots, stages, strict=True), start=1):
        stack = tpl.stacks[index % len(tpl.stacks)]
        scale = rng.uniform(0.6, 1.3)
        licences = None
        if tpl.pool:
            # Variants sharing a pool (two teams on Otter.ai) share its cost.
            pool = _pool(tpl.pool)
            licences = _money(pool.seats * Decimal(pool.price_per_seat_month) / len(tpl.variants))
            run_cost = licences / Decimal(str(TCO_SPLIT[tpl.kind][3]))
        else:
            run_cost = Decimal(str(tpl.cost * scale))
        owner = email(tpl.owner) if tpl.owner else rng.choice(people_by_dept[dept.key])
        colleagues = [p for p in people_by_dept[dept.key] if p != owner]
        delegates = [email(tpl.delegate)] if tpl.delegate else []
        if colleagues and rng.random() < 0.25:
            delegates.append(rng.choice(colleagues))
        earliest, latest = START_DAYS_AGO[stage]
        days_ago = rng.randint(earliest, latest)
        start = REFERENCE_DATE - timedelta(days=days_ago)
        tags = set(tpl.tags)
        if stage == Stage.PILOT and days_ago > PILOT_OVERDUE_DAYS:
            tags.add("pilot-overdue")
        if any(m for m in stack.models if any(am.name == m and am.open_weights for am in AI_MODELS)):
            tags.add("open-weights")
        if tpl.category in (C.CONTENT_GENERATION, C.CONVERSATIONAL_ASSISTANT) and stack.models:
            tags.add("genai")
        case = _business_case(
            tpl, dept, rng, scale=scale, run_cost=run_cost, licences=licences, stage=stage, start=start
        )
        # A rejected initiative never spent anything; the others declare what they run (or plan to run) at.
        declared = Decimal("0") if stage == Stage.REJECTED else _round_cost(float(run_cost))
        specs.append(InitiativeSpec(
            external_id=f"{EXTERNAL_ID_PREFIX}{number:04d}",
            name=" ".join((tpl.name if "{v}" in tpl.name else f"{tpl.name} {{v}}").format(v=variant).split()),
            description=tpl.description.format(v=variant),
            category=tpl.category.value,
            department=dept.name,
            cost_centre=tpl.cost_centre or dept.cost_centres[0].code,
            owner=owner,
            delegates=sorted(set(delegates)),
            stage=stage.value,
            vendors=list(stack.vendors),
            models=list(stack.models),
            start_date=start,
            tags=sorted(tags),
            declared_monthly_cost=declared,
            business_case=case,
            kpis=_kpis(tpl, rng) if case and stage != Stage.PROPOSED else [],
            pool=tpl.pool,
        ))
    return specs


def specs_digest(specs: list[InitiativeSpec]) -> str:
    """A fingerprint of the generated company, to prove two builds are the same company."""
    payload = json.dumps([asdict(s) for s in specs], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()
