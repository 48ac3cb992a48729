"""Bench of the source health view (`arshif status`, `/-/health`) at a million articles."""
