"""kpidsl: KPI and bonus schemes for sales teams, written as readable rules and paid exactly."""

__version__ = "0.1.0"
