"""Writers for the full export: CSV, Excel, SPSS and Stata (with value labels), the
REDCap data dictionary and CDISC ODM-XML 1.3.2.

Every text cell of every format passes through ``neutralise`` (a ``'`` before a leading
``=``, ``+``, ``-``, ``@``, tab or CR), so no export carries a live spreadsheet formula;
the CSV files quote every field, and Excel cells are stored as text, never formulas."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from django.utils import timezone

from blend.apps.exports.neutralise import neutralise
from blend.apps.exports.tables import Column, Table, formatter
from blend.protocol import load_protocol

if TYPE_CHECKING:
    import pandas as pd

# Value labels as pyreadstat takes them (its codes may be any number).
ValueLabels = dict[int | float, str]

BOOL_LABELS: ValueLabels = {0: "no", 1: "yes"}

#: Column kinds whose cells are text (free or coded); the others are typed values
#: (numbers, dates, booleans) that never start a formula and are never changed.
TEXT_KINDS = frozenset({"text", "choice", "json"})


def safe_formatter(column: Column) -> Callable[[Any], str]:
    """The column's text form, neutralised when the column holds text."""
    write = formatter(column)
    if column.kind not in TEXT_KINDS:
        return write
    return lambda value: neutralise(write(value))


def safe_cell(column: Column, value: Any) -> str:
    """The text of one cell as every export writes it (``tables.cell``, neutralised)."""
    return safe_formatter(column)(value)


def csv_writer(handle: IO[str]) -> Any:
    """OWASP's CSV rule: every field quoted (with neutralised text, see ``neutralise``)."""
    return csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)


def write_csv(folder: Path, tables: list[Table]) -> dict[str, int]:
    counts = {}
    for table in tables:
        with (folder / f"{table.name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv_writer(handle)
            writer.writerow([neutralise(c.name) for c in table.columns])
            n = 0
            for chunk in table.text_chunks():
                rows = list(zip(*chunk, strict=True))
                writer.writerows(rows)  # None is written as an empty field, the rest by str()
                n += len(rows)
        counts[table.name] = n
    return counts


def write_excel(path: Path, tables: list[Table]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    try:
        for table in tables:
            sheet = book.create_sheet(table.name[:31])
            sheet.append([neutralise(c.name) for c in table.columns])
            texts = [safe_formatter(c) if c.kind in TEXT_KINDS else None for c in table.columns]
            for row in table.rows():
                sheet.append(
                    [
                        _excel_value(c, v, text)
                        for c, v, text in zip(table.columns, row, texts, strict=True)
                    ]
                )
        book.save(path)
    except BaseException:
        _discard_sheets(book)
        raise


def _discard_sheets(book: Any) -> None:
    """Remove the temporary file openpyxl keeps per write-only sheet until ``save``.

    After a failure half-way it would otherwise stay in the temporary folder until the
    process ends (openpyxl removes its files only at exit), one copy of a table each.
    """
    for sheet in book.worksheets:
        writer = getattr(sheet, "_writer", None)
        out = getattr(writer, "out", None)
        if writer is None or not isinstance(out, str):
            continue
        # The sheet's row stream first, then the file's: each ends its XML element.
        for stream in (getattr(sheet, "_rows", None), writer):
            try:
                if stream is not None:
                    stream.close()
            except Exception:  # noqa: BLE001,S110 - a broken stream; the file goes anyway
                pass
        try:
            writer.cleanup()
        except (OSError, ValueError):
            Path(out).unlink(missing_ok=True)


def _excel_value(column: Column, value: Any, text: Callable[[Any], str] | None) -> Any:
    """A cell's value: neutralised text (openpyxl stores a str that does not start with
    ``=`` as a string cell, type 's', and a neutralised one never does) or a typed value."""
    if value is None:
        return None
    if text is not None:
        return text(value)
    if column.kind == "datetime" and isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value


# --- SPSS and Stata ------------------------------------------------------------------------------------


def choice_codes(column: Column) -> dict[str, int]:
    return {value: i for i, (value, _label) in enumerate(column.choices, start=1)}


def value_labels(column: Column) -> ValueLabels | None:
    if column.kind == "bool":
        return dict(BOOL_LABELS)
    if column.kind == "choice":
        return {i: label for i, (_value, label) in enumerate(column.choices, start=1)}
    return None


def frame(table: Table, *, max_text: int | None = None) -> pd.DataFrame:
    """A pandas DataFrame with numeric codes for labelled columns and real dates."""
    import pandas as pd

    rows = list(table.rows())
    data: dict[str, Any] = {}
    for i, column in enumerate(table.columns):
        values = [row[i] for row in rows]
        data[column.name] = _statistical_column(column, values, max_text)
    return pd.DataFrame(data, columns=[c.name for c in table.columns])


def _statistical_column(column: Column, values: list[Any], max_text: int | None) -> pd.Series:
    import numpy as np
    import pandas as pd

    if column.kind == "choice":
        codes = choice_codes(column)
        return pd.Series(
            [codes.get(str(v), np.nan) if v is not None else np.nan for v in values],
            dtype="float64",
        )
    if column.kind == "bool":
        return pd.Series([np.nan if v is None else float(bool(v)) for v in values], dtype="float64")
    if column.kind in {"int", "float"}:
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if column.kind == "date":
        return pd.to_datetime(pd.Series(values, dtype="object"))
    if column.kind == "datetime":
        local = [
            timezone.localtime(v).replace(tzinfo=None)
            if v is not None and timezone.is_aware(v)
            else v
            for v in values
        ]
        return pd.to_datetime(pd.Series(local, dtype="object"))
    write = safe_formatter(column)
    text = ["" if v is None else write(v) for v in values]
    return pd.Series([t[:max_text] for t in text] if max_text else text, dtype="object")


def _labels(table: Table) -> tuple[list[str | None], dict[str, ValueLabels]]:
    labels: list[str | None] = [c.label[:80] for c in table.columns]
    value = {c.name: vl for c in table.columns if (vl := value_labels(c))}
    return labels, value


def write_spss(folder: Path, tables: list[Table]) -> None:
    import pyreadstat

    for table in tables:
        labels, value = _labels(table)
        pyreadstat.write_sav(
            frame(table),
            str(folder / f"{table.name}.sav"),
            column_labels=labels,
            variable_value_labels=value,
            file_label=table.label,
        )


def write_stata(folder: Path, tables: list[Table]) -> None:
    import pyreadstat

    for table in tables:
        labels, value = _labels(table)
        pyreadstat.write_dta(
            frame(table, max_text=2000),
            str(folder / f"{table.name}.dta"),
            column_labels=labels,
            variable_value_labels=value,
            file_label=table.label[:80],
            version=15,
        )


# --- REDCap data dictionary ----------------------------------------------------------------------------

REDCAP_COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
VALIDATION = {
    "int": "integer",
    "float": "number",
    "date": "date_ymd",
    "datetime": "datetime_seconds_ymd",
}


def redcap_variable(table: Table, column: Column, taken: set[str]) -> str:
    name = column.name.lower()
    if name in taken:
        name = f"{table.name}_{column.name}".lower()
    taken.add(name)
    return name


def dictionary_rows(tables: list[Table]) -> list[list[str]]:
    rows: list[list[str]] = []
    taken: set[str] = set()
    for table in tables:
        for column in table.columns:
            field_type, choices = "text", ""
            if column.kind == "bool":
                field_type = "yesno"
            elif column.kind == "choice":
                field_type = "dropdown"
                choices = " | ".join(f"{code}, {label}" for code, label in column.choices)
            elif column.kind == "json":
                field_type = "notes"
            note = f"stored as {column.kind}; export column {table.name}.{column.name}"
            rows.append(
                [
                    redcap_variable(table, column, taken),
                    table.name,
                    "",
                    field_type,
                    column.label,
                    choices,
                    note,
                    VALIDATION.get(column.kind, ""),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    return rows


def write_dictionary(path: Path, tables: list[Table]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(REDCAP_COLUMNS)
        writer.writerows([neutralise(v) for v in row] for row in dictionary_rows(tables))


# --- CDISC ODM-XML 1.3.2 -------------------------------------------------------------------------------

ODM_TYPES = {
    "int": "integer",
    "float": "float",
    "date": "date",
    "datetime": "datetime",
    "bool": "boolean",
    "choice": "text",
    "text": "text",
    "json": "text",
}
STUDY_OID = "ST.BLEND"
EVENT_OID = "SE.TRIAL"
MDV_OID = "MDV.1"


def item_oid(table: Table, column: Column) -> str:
    return f"IT.{table.name}.{column.name}"


def _attrs(**values: str) -> str:
    return " ".join(f"{k}={quoteattr(v)}" for k, v in values.items())


def _metadata(tables: list[Table]) -> Iterable[str]:
    protocol = load_protocol()
    yield f"<Study OID={quoteattr(STUDY_OID)}><GlobalVariables><StudyName>{escape(protocol.trial_code)}</StudyName>"
    yield f"<StudyDescription>{escape(protocol.trial_title)}</StudyDescription>"
    yield f"<ProtocolName>{escape(protocol.registration)}</ProtocolName></GlobalVariables>"
    yield f"<MetaDataVersion {_attrs(OID=MDV_OID, Name='BLEND ' + protocol.version)}>"
    yield (
        "<Protocol>"
        + f"<StudyEventRef {_attrs(StudyEventOID=EVENT_OID, OrderNumber='1', Mandatory='Yes')}/>"
    )
    yield "</Protocol>"
    yield f"<StudyEventDef {_attrs(OID=EVENT_OID, Name='Trial', Repeating='No', Type='Common')}>"
    for i, table in enumerate(tables, start=1):
        yield f"<FormRef {_attrs(FormOID='F.' + table.name, OrderNumber=str(i), Mandatory='No')}/>"
    yield "</StudyEventDef>"
    for table in tables:
        yield f"<FormDef {_attrs(OID='F.' + table.name, Name=table.label, Repeating='Yes')}>"
        yield f"<ItemGroupRef {_attrs(ItemGroupOID='IG.' + table.name, Mandatory='Yes')}/></FormDef>"
    for table in tables:
        yield f"<ItemGroupDef {_attrs(OID='IG.' + table.name, Name=table.label, Repeating='Yes')}>"
        for i, column in enumerate(table.columns, start=1):
            yield f"<ItemRef {_attrs(ItemOID=item_oid(table, column), OrderNumber=str(i), Mandatory='No')}/>"
        yield "</ItemGroupDef>"
    for table in tables:
        yield from _item_defs(table)
    for table in tables:
        for column in table.columns:
            if column.kind == "choice":
                yield f"<CodeList {_attrs(OID='CL.' + table.name + '.' + column.name, Name=column.label, DataType='text')}>"
                for code, label in column.choices:
                    yield (
                        f'<CodeListItem {_attrs(CodedValue=code)}><Decode><TranslatedText xml:lang="en">'
                        f"{escape(label)}</TranslatedText></Decode></CodeListItem>"
                    )
                yield "</CodeList>"
    yield "</MetaDataVersion></Study>"


def _item_defs(table: Table) -> Iterable[str]:
    for column in table.columns:
        attrs = _attrs(
            OID=item_oid(table, column), Name=column.name, DataType=ODM_TYPES[column.kind]
        )
        yield f'<ItemDef {attrs}><Description><TranslatedText xml:lang="en">{escape(column.label)}</TranslatedText>'
        yield "</Description>"
        if column.kind == "choice":
            yield f"<CodeListRef {_attrs(CodeListOID='CL.' + table.name + '.' + column.name)}/>"
        yield "</ItemDef>"


def _subject_of(table: Table) -> int:
    return next(i for i, c in enumerate(table.columns) if c.name == "study_id")


_ATTR = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def _clinical_data(tables: list[Table]) -> Iterable[str]:
    """One SubjectData per participant, in study-ID order; each table a repeating form,
    rows numbered by ItemGroupRepeatKey. Every table is read in study-ID order on its own
    cursor and the cursors are walked side by side, so one subject is held at a time."""
    yield f"<ClinicalData {_attrs(StudyOID=STUDY_OID, MetaDataVersionOID=MDV_OID)}>"
    streams = [_forms_by_subject(table) for table in tables]
    heads = [next(stream, None) for stream in streams]
    while any(head is not None for head in heads):
        subject = min(head[0] for head in heads if head is not None)
        forms: list[str] = []
        for i, stream in enumerate(streams):
            while (head := heads[i]) is not None and head[0] == subject:
                forms.append(head[1])
                heads[i] = next(stream, None)
        yield (
            f"<SubjectData {_attrs(SubjectKey=subject)}><StudyEventData {_attrs(StudyEventOID=EVENT_OID)}>"
            + "".join(forms)
            + "</StudyEventData></SubjectData>"
        )
    yield "</ClinicalData>"


def _forms_by_subject(table: Table) -> Iterator[tuple[str, str]]:
    """(subject, FormData) for each row of ``table``, by subject and then primary key."""
    subject_index = _subject_of(table)
    prefixes = [f'<ItemData ItemOID={quoteattr(item_oid(table, c))} Value="' for c in table.columns]
    head = f'<FormData FormOID="F.{table.name}" FormRepeatKey="'
    group = f'"><ItemGroupData ItemGroupOID="IG.{table.name}" ItemGroupRepeatKey="'
    subject, count = None, 0
    # Small chunks: every table's cursor holds one at a time while the subjects are merged.
    for chunk in table.text_chunks(by_subject=True, size=500):
        items = [_items(prefix, cells) for prefix, cells in zip(prefixes, chunk, strict=True)]
        for row_subject, *row_items in zip(chunk[subject_index], *items, strict=True):
            count = count + 1 if row_subject == subject else 1
            subject = row_subject
            key = str(count)
            yield (
                row_subject,
                f'{head}{key}{group}{key}">{"".join(row_items)}</ItemGroupData></FormData>',
            )


_SEPARATOR = "\x00"


def _items(prefix: str, cells: Sequence[Any]) -> list[str]:
    """One column's ItemData elements (empty for a missing value), escaped for an
    attribute. The column is escaped in one pass: its cells joined by NUL (which no
    stored text holds; checked), replaced, and split again."""
    texts = [v if type(v) is str else str(v) for v in cells if v is not None]
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) == len(texts) - 1:
        escaped = iter(_escape_attribute(joined).split(_SEPARATOR) if texts else [])
    else:  # a cell holds a NUL itself: escape the cells one by one
        escaped = iter([t.translate(_ATTR) for t in texts])
    return ["" if v is None else prefix + next(escaped) + '"/>' for v in cells]


def _escape_attribute(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    for char, entity in _ATTR_ENTITIES:
        if char in text:
            text = text.replace(char, entity)
    return text


_ATTR_ENTITIES = (
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("\n", "&#10;"),
    ("\r", "&#13;"),
    ("\t", "&#9;"),
)


def write_odm(path: Path, tables: list[Table]) -> None:
    created = timezone.now().isoformat(timespec="seconds")
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(
            f'<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="Snapshot" '
            f'FileOID="BLEND.{created}" CreationDateTime="{created}" Granularity="All" '
            f'SourceSystem="BLEND trial platform">\n'
        )
        for chunk in _metadata(tables):
            out.write(chunk)
        out.write("\n")
        for chunk in _clinical_data(tables):
            out.write(chunk + "\n")
        out.write("</ODM>\n")
