"""Cost and usage connectors, one module per source type, each behind portfolio.costs.connectors.base.Connector."""
