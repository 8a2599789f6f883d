"""Exceptions and warnings of the analysis package."""

from __future__ import annotations


class ContractError(ValueError):
    """The analysis dataset breaks `docs/contracts/analysis-dataset.md`.

    The message names the file, the row (1-based, header = row 1), the column,
    what was expected and what was found, so a data manager can fix the export.
    """

    def __init__(
        self, file: str, row: int | None, column: str, expected: str, found: object
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.expected = expected
        self.found = found
        where = f"{file}, row {row}, column {column}" if row else f"{file}, {column}"
        super().__init__(f"{where}: expected {expected}, found {found!r}")


class NotEstimable(ValueError):
    """The data cannot support this estimate; `reason` says why in words a reader can act on.

    Raised instead of returning a number that would look ordinary but mean nothing:
    an aliased treatment coefficient (no outcomes in one arm), a model without
    residual degrees of freedom, a Cox fit that did not converge.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class StatisticalWarning(UserWarning):
    """A methodological caveat (small cells, a model that did not converge, ...)."""
