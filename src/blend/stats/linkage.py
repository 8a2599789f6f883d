"""The routine-data linkage note: what was linked, when, and the match rate.

CONSORT-ROUTINE (Kwakkenbos et al., BMJ 2021;373:n857, items 6a.1 and 13a.1) asks a trial
that uses routine data to report the linkage: the data sources, the method, and how
many records were linked. The platform hands the note over in ``dataset.json`` under the
optional key ``linkage`` (docs/contracts/analysis-dataset.md); the CONSORT diagram and
the report state it. No Django.

A note is a list of linkage runs, each an object:

- ``source``: the registry ("NCR", "BRP", ...), text;
- ``data``: what was linked, text;
- ``on``: the day it was linked, YYYY-MM-DD;
- ``records``: rows sent (an export) or read (an import), a whole number ≥ 0;
- ``of``: for an export, the cohort members considered, or null;
- ``matched``: for an import, the rows that matched a member, or null (an export is
  matched on the registry's side);
- ``match_rate``: matched / records, a number from 0 to 1, or null;
- ``conflicts_open``: optional, disagreements with the record still waiting.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from blend.stats.errors import ContractError

FILE = "dataset.json"
_WHOLE = ("records", "of", "matched", "conflicts_open")


def _field(i: int, name: str) -> str:
    return f"key linkage[{i}].{name}"


def _check_run(i: int, run: Any) -> dict[str, Any]:
    if not isinstance(run, dict):
        raise ContractError(FILE, None, f"key linkage[{i}]", "an object", run)
    for name in ("source", "data"):
        if not isinstance(run.get(name), str) or not run[name].strip():
            raise ContractError(FILE, None, _field(i, name), "a non-empty text", run.get(name))
    try:
        date.fromisoformat(str(run.get("on")))
    except ValueError:
        raise ContractError(
            FILE, None, _field(i, "on"), "a date YYYY-MM-DD", run.get("on")
        ) from None
    for name in _WHOLE:
        value = run.get(name)
        required = name == "records"
        if (value is None and required) or (
            value is not None and (type(value) is not int or value < 0)
        ):
            what = "a whole number ≥ 0" + ("" if required else " or null")
            raise ContractError(FILE, None, _field(i, name), what, value)
    rate = run.get("match_rate")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1
    ):
        raise ContractError(
            FILE, None, _field(i, "match_rate"), "a number from 0 to 1 or null", rate
        )
    return dict(run)


def check_linkage_note(value: Any) -> list[dict[str, Any]] | None:
    """The ``linkage`` key of dataset.json, validated (None when absent)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ContractError(FILE, None, "key linkage", "a list of linkage runs", value)
    return [_check_run(i, run) for i, run in enumerate(value)]


def _rate(run: dict[str, Any]) -> str:
    if run.get("matched") is None:
        return "matched by the registry"
    rate = run.get("match_rate")
    share = f" ({100 * rate:.1f}%)" if rate is not None else ""
    return f"matched {run['matched']:,} of {run['records']:,}{share}"


def linkage_lines(note: list[dict[str, Any]] | None) -> list[str]:
    """One sentence per run: ``BRP vital status, 2026-05-01: 1,000 records, matched 950 of
    1,000 (95.0%)``."""
    lines = []
    for run in note or []:
        of = f" of {run['of']:,} cohort members" if run.get("of") is not None else ""
        text = f"{run['source']} {run['data']}, {run['on']}: {run['records']:,} records{of}, {_rate(run)}"
        if run.get("conflicts_open"):
            text += f"; {run['conflicts_open']:,} conflicts with the record open"
        lines.append(text)
    return lines
