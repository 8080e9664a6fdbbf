"""Source type -> connector class. The types are those of `apply_cost_config` (issue 5)."""

from __future__ import annotations

from importlib import import_module

CONNECTORS: dict[str, str] = {
    "focus": "portfolio.costs.connectors.focus.FocusConnector",
    "csv": "portfolio.costs.connectors.plain_csv.PlainCsvConnector",
    "openai": "portfolio.costs.connectors.openai.OpenAIConnector",
    "anthropic": "portfolio.costs.connectors.anthropic.AnthropicConnector",
    "github_copilot": "portfolio.costs.connectors.github_copilot.GitHubCopilotConnector",
    "m365_copilot": "portfolio.costs.connectors.m365_copilot.M365CopilotConnector",
    "opencost": "portfolio.costs.connectors.opencost.OpenCostConnector",
}


def connector_class(source_type: str):
    """The connector class for a source type; KeyError names the unknown type."""
    try:
        dotted = CONNECTORS[source_type]
    except KeyError:
        raise KeyError(f"Unknown source type {source_type!r}; known: {', '.join(CONNECTORS)}") from None
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)
