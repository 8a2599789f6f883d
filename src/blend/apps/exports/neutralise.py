"""Formula neutralisation for every text cell an export writes (OWASP, CSV injection).

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage return hides such a
start from a naive check. An adverse-event description ``=HYPERLINK("http://evil","x")``
would be a live link in the statistician's spreadsheet. So every text cell of every
export gets a single quote in front of such a start, which every spreadsheet shows as
text, and the CSV writers quote every field (OWASP's rule).

A cell can also start a spreadsheet cell in its middle: a Dutch Excel opens a
comma-separated file by splitting at ``;`` (its list separator), and then a quoted
field's line breaks end the row. So a formula start right after a ``;``, a tab, a
carriage return or a line feed inside the text gets the same quote
(``harmless;=cmd|...`` becomes ``harmless;'=cmd|...``).

Two refinements keep the data exact and readable:

- a cell that is a plain number (``-2``, ``+1.5``, ``-1e-3``) is no formula and stays as
  it is, so negative numbers in text or JSON columns remain numbers;
- quotes already in place before such a start (``'=x``) get one more, so ``restore``
  (remove one quote at each of these places) gives the stored text back exactly. Other
  quotes (``'s avonds``) are left alone.

Typed columns (numbers, dates, booleans) never pass through here: only text does.
"""

from __future__ import annotations

import re

#: The characters OWASP and ASVS 1.2.10 name (= + - @ tab CR, and NUL), a line feed,
#: and their full-width forms, which some spreadsheets also read as a formula start.
TRIGGERS = "=+-@\t\r\n\x00＝＋－＠"
#: Where a spreadsheet may start a new cell inside the text (see the module's doc).
SEPARATORS = ";\t\r\n"
# At the start or right after a separator: "not preceded by a non-separator".
_AT_START = "(?<![^" + re.escape(SEPARATORS) + "])"
_TRIGGER = "'*[" + re.escape(TRIGGERS) + "]"
_UNSAFE = re.compile(_AT_START + "(?=" + _TRIGGER + ")")
_ADDED = re.compile(_AT_START + "'(?=" + _TRIGGER + ")")
_FIRST = frozenset(TRIGGERS + "'")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it as text: a ``'`` before each formula start.

    >>> neutralise('=HYPERLINK("http://evil","x")')
    '\\'=HYPERLINK("http://evil","x")'
    >>> neutralise("-2+3"), neutralise("-2"), neutralise("pain 3/10; -2 since")
    ("'-2+3", '-2', "pain 3/10; -2 since")
    >>> neutralise("ok;=cmd|' /C calc'!A0")
    "ok;'=cmd|' /C calc'!A0"
    """
    if not text or (
        text[0] not in _FIRST
        and ";" not in text
        and "\n" not in text
        and "\r" not in text
        and "\t" not in text
    ):
        return text  # the common case (no SEPARATORS in it), without the slower substitution
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return _UNSAFE.sub("'", text)


def restore(text: str) -> str:
    """The stored text of an exported cell: ``neutralise`` undone.

    >>> restore(neutralise("@SUM(1)")), restore("'s avonds")
    ('@SUM(1)', "'s avonds")
    """
    return _ADDED.sub("", text)
