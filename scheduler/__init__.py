"""The on-call rota, paging escalation and time-based jobs (not built yet: see the README)."""
