"""The ledger: periods with memory, kept in an embedded database (docs/real-life.md).

`kpidsl close S.kpi FACTS --period 2025-07 --ledger pay.db` records every line of every
employee's statement; later periods read the balances it carried out: recoverable draws,
year-to-date pay, deals that can be clawed back. One module per step:

- ``store``: the SQLite file, append-only, one transaction per close, one writer at a time;
- ``memory``: the arithmetic of a period with memory (year to date, clawbacks, draws);
- ``inputs``: the per-deal files a close reads (deals paid, deals reversed);
- ``close``: evaluate, settle, then record, compare or correct;
- ``report``: periods, balances, differences and an employee's history, for people and JSON.
"""

from __future__ import annotations

from .close import Difference, Outcome, close_period
from .store import Ledger

__all__ = ["Difference", "Ledger", "Outcome", "close_period"]
