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


class StatisticalWarning(UserWarning):
    """A methodological caveat (small cells, a model that did not converge, ...)."""
