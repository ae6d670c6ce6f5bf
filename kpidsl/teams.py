"""Team results never rest on a partial team.

A team aggregate (`team total of revenue`), a scheme `paid per team` and a budget split over
a team are computed from every member's row. When a member's row fails — unreadable cells,
a refused value, a failed evaluation — the team is incomplete, and a result computed from
what is left would be paid as if it were whole: a team total short by one member, a budget
shared among fewer people. Such results are failed instead (KPI905), each naming the member
who is missing, so that every row is still either evaluated or failed.

A row that failed before its team could be read (a ragged row) may be anyone's: it makes
every team incomplete. A budget not split per team is shared by everyone evaluated
together, so any failed row makes it incomplete.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .diagnostics import Diagnostic, error

MAX_NAMED = 3  # members named in one message; the rest are counted


@dataclass(frozen=True)
class MissingMember:
    """A facts row that gave no result; `team` is its team ('' = the rows without a team),
    unknown when `known` is False."""

    employee: str | None
    row: int
    team: str = ""
    known: bool = True

    def describe(self, member: bool = False) -> str:
        """'ivanov' (row 3); a row without a readable id: 'on row 3' after 'member', else
        'the employee on row 3'."""
        if self.employee:
            return f"'{self.employee}' (row {self.row})" if self.row else f"'{self.employee}'"
        return f"on row {self.row}" if member else f"the employee on row {self.row}"


class Missing:
    """The failed members of a run, by team."""

    def __init__(self) -> None:
        self.by_team: dict[str, list[MissingMember]] = defaultdict(list)
        self.anywhere: list[MissingMember] = []  # rows whose team is unknown
        self.everyone: list[MissingMember] = []

    def add(self, member: MissingMember) -> None:
        self.everyone.append(member)
        if member.known:
            self.by_team[member.team].append(member)
        else:
            self.anywhere.append(member)

    def __bool__(self) -> bool:
        return bool(self.everyone)

    def of_team(self, team: str) -> list[MissingMember]:
        return [*self.by_team.get(team, ()), *self.anywhere]


def _names(members: list[MissingMember], member: bool = False) -> str:
    named = ", ".join(m.describe(member) for m in members[:MAX_NAMED])
    more = len(members) - MAX_NAMED
    return named + (f" and {more} more" if more > 0 else "")


def _team(team: str) -> str:
    return f"team '{team}'" if team else "the rows without a team"


def _member(lost: list[MissingMember]) -> str:
    return ("member " if len(lost) == 1 else "members ") + _names(lost, member=True)


def incomplete_team(employee: str, team: str, lost: list[MissingMember],
                    needs: str) -> Diagnostic:
    """KPI905 for one employee whose pay rests on an incomplete team."""
    return error("KPI905", f"employee '{employee}' is not paid: {needs} {_team(team)}, whose "
                 f"{_member(lost)} failed", hint=_HINT)


def incomplete_everyone(employee: str, lost: list[MissingMember], needs: str) -> Diagnostic:
    """KPI905 for one employee whose budget is shared with an employee who failed."""
    return error("KPI905", f"employee '{employee}' is not paid: {needs} among everyone "
                 f"evaluated, and {_names(lost)} failed", hint=_HINT)


def incomplete_per_team(employee: str, team: str, lost: list[MissingMember]) -> Diagnostic:
    """KPI905 for each member row of a team whose `paid per team` result is not paid."""
    return error("KPI905", f"{_team(team)} is not paid (row of '{employee}'): the scheme is "
                 f"paid per team, and its {_member(lost)} failed", hint=_HINT)


_HINT = "fix the failed row and evaluate again: a team result needs every member's row"


__all__ = ["Missing", "MissingMember", "incomplete_everyone", "incomplete_per_team",
           "incomplete_team"]
