"""Reading labelled text from TSV, CSV and JSON Lines files, by column name."""

import csv
import json
import os

FORMATS = ("tsv", "csv", "jsonl")


def infer_format(path, file_format=None):
    if file_format:
        if file_format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}. Received: format={file_format!r}")
        return file_format
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension == "json":
        extension = "jsonl"
    if extension not in FORMATS:
        raise ValueError(f"Cannot tell the format of {path} from its extension; set format "
                         f"to one of {FORMATS}.")
    return extension


def read_columns(path, columns, file_format=None):
    """Reads the named columns of a text file.

    TSV files are read without quote processing (MRPC and GLUE TSVs contain
    bare quote characters); CSV files with standard quoting; JSON Lines files
    take one object per line. Every row must have every column: a missing
    value raises ValueError naming the file, line and column.

    Args:
        path: the file.
        columns: column names (header names for TSV/CSV, keys for JSONL).
        file_format: "tsv", "csv" or "jsonl"; inferred from the extension.

    Returns:
        dict column -> list of values (strings, or JSON values for JSONL).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No data file at {path}")
    file_format = infer_format(path, file_format)
    values = {column: [] for column in columns}
    with open(path, encoding="utf-8", newline="") as f:
        if file_format == "jsonl":
            rows = ((number, json.loads(line)) for number, line in enumerate(f, 1) if line.strip())
        else:
            reader = csv.DictReader(
                f, delimiter="\t" if file_format == "tsv" else ",",
                quoting=csv.QUOTE_NONE if file_format == "tsv" else csv.QUOTE_MINIMAL)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path} has no column(s) {missing}; its header is "
                                 f"{reader.fieldnames}")
            rows = enumerate(reader, 2)
        for number, row in rows:
            for column in columns:
                value = row.get(column)
                if value is None:
                    raise ValueError(f"{path}, line {number}: no value for column {column!r}")
                values[column].append(value)
    return values
