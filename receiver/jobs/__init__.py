"""The time-driven jobs: one elected process runs them on APScheduler, under a database lease."""
