"""Compute-to-data: algorithms that run next to the data, and the gates a result passes to leave.

The engine layer works on files and plain values (no FastAPI, no SQLAlchemy): ``algorithm`` (bundles and
their digests), ``runtime`` (the runtime interface, limits, outcomes, registry), ``sql_runtime`` (locked-down
DuckDB), ``python_runtime`` + ``sandbox`` (bubblewrap), ``result`` (typed result tables), ``gates`` and
``privacy`` (release gates, differential-privacy noise, budget rule). See docs/compute.md.
"""
