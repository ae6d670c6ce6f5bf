"""Versions by period: which version of a scheme is in force in a given month.

Schemes change (weights quarterly, plans seasonally), so a scheme has versions, each with
the period it is effective in (`effective from 2025-01 to 2025-06`). A directory holds the
versions of a scheme; `eval --period 2025-07` picks the one in force and says which.
Versions of one scheme that overlap are an error (KPI620): a month must have one answer.
A gap between them is a warning (KPI621): nothing is paid by the scheme in those months.

Dates are `YYYY-MM` (a whole month: as a start its first day, as an end its last day) or
`YYYY-MM-DD`. A version without `to` is in force from its start on.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import ast
from .api import Ruleset, load, read_text
from .checks.dates import effective_dates, effective_span, parse_period
from .diagnostics import Diagnostic, KpiError, error, warning
from .parser import parse
from .source import SourceFile, Span

ONE_DAY = dt.timedelta(days=1)


def period_date(text: str) -> dt.date:
    """The day a `--period` value stands for (its first day); KPI623 when it is no period."""
    try:
        return parse_period(text)
    except ValueError as exc:
        raise KpiError([error("KPI623", str(exc), SourceFile("--period", ""),
                              hint="write the month as YYYY-MM, e.g. --period 2025-07")]) from None


@dataclass(frozen=True)
class Version:
    """One dated version of a scheme, read from its header."""

    path: Path
    source: SourceFile
    header: ast.Header
    start: dt.date | None
    end: dt.date | None  # inclusive; None: open-ended

    @property
    def scheme(self) -> str:
        return self.header.name

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def span(self) -> Span:
        """The `effective` clause in the header (the header itself when there is none)."""
        return effective_span(self.source, self.header)

    def period_text(self, lang: str = "en") -> str:
        """'from 2025-07-01 to 2025-12-31' / 'с 2025-07-01 по 2025-12-31'."""
        from .i18n import section

        words = section("RUN", lang)
        start = self.start.isoformat() if self.start else words["the_beginning"]
        return words["in_force_between"].format(start=start, end=self.end.isoformat()) \
            if self.end else words["in_force_since"].format(start=start)

    def describe(self, lang: str = "en") -> str:
        """'b2b_seasonal 2025.2 (h2.kpi), in force from 2025-07-01 to 2025-12-31'."""
        from .i18n import section

        return section("RUN", lang)["version_in_force"].format(
            scheme=self.scheme, version=f" {self.header.version}" if self.header.version else "",
            file=self.path.name, period=self.period_text(lang))

    def load(self) -> Ruleset:
        return load(self.path)


def version_of(path: Path, source: SourceFile, header: ast.Header) -> tuple[Version,
                                                                             list[Diagnostic]]:
    """A Version from a parsed header; bad dates give KPI623 at the effective clause."""
    start, end, problems = effective_dates(header, source)
    return Version(path, source, header, start, end), problems


@dataclass
class VersionSet:
    """The versions found in a directory, and what is wrong with them as a set."""

    directory: Path
    versions: list[Version]
    diagnostics: list[Diagnostic]

    def schemes(self) -> list[str]:
        return sorted({v.scheme for v in self.versions})

    def of(self, scheme: str) -> list[Version]:
        return sorted((v for v in self.versions if v.scheme == scheme),
                      key=lambda v: (v.start or dt.date.min, v.path.name))

    def pick(self, period: str | dt.date, scheme: str | None = None) -> Version:
        """The version in force on the period's first day; KPI622 when there is none."""
        day = period if isinstance(period, dt.date) else period_date(period)
        errors = [d for d in self.diagnostics if d.is_error]
        if errors:
            raise KpiError(errors)
        names = self.schemes()
        if scheme is None and len(names) > 1:
            raise KpiError([error("KPI629", f"versions of several schemes in one directory: "
                                  f"{', '.join(names)}", SourceFile(str(self.directory), ""),
                                  hint="keep one scheme's versions per directory")])
        scheme = scheme or (names[0] if names else "")
        candidates = self.of(scheme)
        for version in candidates:
            if version.covers(day):
                return version
        known = "; ".join(f"{v.path.name} {v.period_text()}" for v in candidates) or "none"
        raise KpiError([error("KPI622", f"no version of scheme '{scheme}' is in force on "
                              f"{day.isoformat()}", SourceFile(str(self.directory), ""),
                              hint=f"versions: {known}")])


def check_versions(versions: list[Version]) -> list[Diagnostic]:
    """Overlaps (KPI620), gaps (KPI621) and undated versions (KPI624) per scheme name."""
    out: list[Diagnostic] = []
    by_scheme: dict[str, list[Version]] = defaultdict(list)
    for version in versions:
        if version.start is None and not version.header.effective_from:
            out.append(error("KPI624", f"{version.path.name} has no 'effective from' date, so "
                             "it cannot be placed among the versions", version.source,
                             version.header.name_span,
                             hint="add e.g. 'effective from 2025-01' to the header"))
        elif version.start is not None:
            by_scheme[version.scheme].append(version)
    for scheme, group in by_scheme.items():
        group.sort(key=lambda v: (v.start, v.path.name))
        for earlier, later in itertools.pairwise(group):
            assert earlier.start is not None and later.start is not None
            if earlier.end is None or earlier.end >= later.start:
                until = earlier.end if earlier.end is not None and (
                    later.end is None or earlier.end <= later.end) else later.end
                both = f"from {later.start} to {until}" if until else f"from {later.start} on"
                out.append(error(
                    "KPI620", f"versions of scheme '{scheme}' overlap: {later.path.name} starts "
                    f"on {later.start} while {earlier.path.name} is in force "
                    f"{earlier.period_text()} (both {both})",
                    later.source, later.span(),
                    hint=f"end {earlier.path.name} with 'to {_month_before(later.start)}', "
                         "or start this version later"))
            elif earlier.end + ONE_DAY < later.start:
                out.append(warning(
                    "KPI621", f"no version of scheme '{scheme}' is in force from "
                    f"{earlier.end + ONE_DAY} to {later.start - ONE_DAY} (between "
                    f"{earlier.path.name} and {later.path.name})", later.source, later.span(),
                    hint=f"start this version on {earlier.end + ONE_DAY} or extend the "
                         "earlier one"))
    return out


def _month_before(day: dt.date) -> str:
    """The end that closes a version just before `day`: a month when it starts on the 1st."""
    before = day - ONE_DAY
    return f"{before:%Y-%m}" if day.day == 1 else before.isoformat()


def load_versions(directory: str | Path) -> VersionSet:
    """Read the header of every *.kpi in a directory and check the versions as a set."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.kpi"))
    if not paths:
        raise KpiError([error("KPI629", "no *.kpi files in this directory",
                              SourceFile(str(directory), ""),
                              hint="a versions directory has one .kpi file per version")])
    versions: list[Version] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        source = SourceFile(str(path), read_text(path))
        tree, problems = parse(source)
        diagnostics += problems
        if tree is None:
            continue
        version, problems = version_of(path, source, tree.header)
        diagnostics += problems
        versions.append(version)
    diagnostics += check_versions(versions)
    return VersionSet(directory, versions, diagnostics)


@dataclass
class Resolved:
    """The scheme to evaluate for a period, and the version that was chosen (if dated)."""

    ruleset: Ruleset
    version: Version | None
    month: int | None
    warnings: list[Diagnostic]

    def note(self, lang: str = "en") -> str:
        """What `eval` prints to say which version it used, in the command's language."""
        from .i18n import section

        return section("RUN", lang)["using_version"].format(
            version=self.version.describe(lang)) if self.version else ""


def resolve(path: str | Path, period: str | None = None, scheme: str | None = None, *,
            strict: bool = True) -> Resolved:
    """A scheme file, or a directory of versions picked by `period` (required for a directory).

    For a single file with a period, the file must be in force in that period (KPI622) unless
    not `strict` (a pilot scheme runs in shadow before its effective date).
    """
    path = Path(path)
    if path.is_dir():
        if period is None:
            raise KpiError([error("KPI622", "a directory of versions: say which period to "
                                  "evaluate", SourceFile(str(path), ""),
                                  hint="add e.g. --period 2025-07")])
        versions = load_versions(path)
        chosen = versions.pick(period, scheme)
        warnings = [d for d in versions.diagnostics if not d.is_error]
        return Resolved(chosen.load(), chosen, period_date(period).month, warnings)
    ruleset = load(path)
    if period is None:
        return Resolved(ruleset, None, None, [])
    day = period_date(period)
    if not strict:
        return Resolved(ruleset, None, day.month, [])
    version, problems = version_of(path, ruleset.checked.source, ruleset.checked.header)
    if problems:
        raise KpiError(problems)
    if not version.covers(day):
        raise KpiError([error("KPI622", f"{path.name} is not in force on {day.isoformat()}: it "
                              f"is in force {version.period_text()}", version.source,
                              version.span(),
                              hint="evaluate a directory of versions to pick the right one")])
    return Resolved(ruleset, version if version.start else None, day.month, [])


__all__ = ["Resolved", "Version", "VersionSet", "check_versions", "load_versions",
           "parse_period", "period_date", "resolve"]
