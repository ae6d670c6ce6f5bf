"""The deal-export scheme the sources tests share: won deals' revenue against a 100 000 quota,
paid per deal at 1 / 2 / 3 / 4 % on the running attainment (the issue's worked example).
`share=True` credits each deal by a "Share" column (the credit-split tests); `won=False` leaves
out the count of won deals (a scheme whose facts are its revenue alone)."""

from __future__ import annotations


def tiered_deals(name: str, title: str, *, share: bool = False, won: bool = True) -> str:
    shares = '  share column "Share"' if share else ""
    count = 'fact won count = count of deals where stage is "won" if missing 0\n' if won else ""
    return f'''scheme {name} "{title}"
source deals "Deals"
  employee column "Manager"  date column "Closed"  key column "ID"{shares}
  field amount money column "Amount"
  field stage text column "Stage"
fact revenue money = total of deals.amount where stage is "won" if missing 0
{count}curve rates "Tiers"
  tiers marginal
    from 0% to 80%     rate 1%
    from 80% to 100%   rate 2%
    from 100% to 150%  rate 3%
    from 150%          rate 4%
kpi revenue "Revenue" plan 100_000 RUB
pay commission "Commission"
  for each deal in deals where stage is "won"
  pays rates on the running attainment of revenue
'''
