"""Private peer benchmarks: KPI comparisons among peers by secure aggregation (Shamir secret sharing)."""
