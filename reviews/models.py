"""Evidence of value over time: review cycles, value reports and verdicts (reviews issue)."""
