"""UI pieces every app shares: the list view base, service-error mapping for forms and the API, the money column,
the read-only admin base."""
