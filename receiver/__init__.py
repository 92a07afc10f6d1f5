"""onwatch's adapters: the Flask app, the store, the CLI and the jobs, one package per feature.

The pure cores live beside this package: `rules/` grades alerts, `scheduler/` is the rota and
burden maths, `response/` the incident response process. Each feature package here holds its
rows, its use cases, its HTTP views and its CLI.
"""
