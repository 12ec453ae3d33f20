"""The formula rule of CSV exports: what a spreadsheet would evaluate is quoted, numbers are not."""

import csv
import io

import pytest

from web.csv_export import csv_lines, neutralise

FORMULAS = [
    "=1+1",
    "@SUM(A1)",
    "-2+3",
    "+1+cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","x")',
    "+1 555 0100",
    "-",
    "+",
    "-1e5",
    "+15555919122;=1",
    "\t=1+1",
    "\r=1+1",
    "-42.5.1",
    "+.5",
]
PLAIN = [
    "+15555919122",
    "-42.5",
    "+44",
    "42",
    "0.5",
    "-0",
    "",
    "plain",
    "a=b",
    " =1",
    "'quoted",
    "2026-01-01",
    "(555) 591-9122",
]


def _written(values: list[str]) -> list[str]:
    text = "".join(csv_lines(["h"] * len(values), [values]))
    return list(csv.reader(io.StringIO(text)))[1]


@pytest.mark.parametrize("value", FORMULAS)
def test_what_a_spreadsheet_would_evaluate_is_quoted(value):
    assert neutralise(value) == "'" + value
    assert _written([value]) == ["'" + value]


@pytest.mark.parametrize("value", PLAIN)
def test_numbers_phone_numbers_and_plain_text_stay_as_they_are(value):
    assert neutralise(value) == value
    assert _written([value]) == [value]


def test_the_inlined_rule_and_neutralise_agree_on_a_whole_row():
    row = FORMULAS + PLAIN
    assert _written(row) == [neutralise(v) for v in row]
