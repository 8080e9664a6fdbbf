"""Decisions and controls: rubric, scores, policies, signals and the audit trail (governance issue)."""
