"""The facts' SQL type, without sqlglot: read by the engine at start-up (kpidsl/sql/engine.py)
as well as by the generator (kpidsl/sql/dialects.py)."""

# Facts arrive as DECIMAL(18, 6): up to 12 integer and 6 fraction digits, read exactly as
# integers scaled by 10**6.
FACT_SCALE = 6
FACT_DIGITS = 18
