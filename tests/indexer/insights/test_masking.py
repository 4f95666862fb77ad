"""indexer/insights/masking.py: what looks personal never reaches the search
log, and the figures readers ask about (blood pressures, durations, ages,
doses) are kept, since the editors' report is about them."""
from __future__ import annotations

import pytest

from indexer.insights.masking import mask, masked_query, normalise


@pytest.mark.parametrize("query, expected", [
    ("email me at john.smith@example.com", "email me at [email]"),
    ("jane_doe+heart@mail.example.co.uk chest pain", "[email] chest pain"),
    ("o'brien.k@nhs.net results", "[email] results"),
    ("my address is a.b-c@sub-domain.org.", "my address is [email]."),
])
def test_email_addresses_are_masked(query, expected):
    assert mask(query) == expected


@pytest.mark.parametrize("query, expected", [
    ("call +44 20 7946 0958", "call [phone]"),
    ("+44 (0)20 7946 0958 cardiology", "[phone] cardiology"),
    ("+1-555-123-4567", "[phone]"),
    ("+33 1 23 45 67 89 palpitations", "[phone] palpitations"),
    ("(555) 123-4567 doctor", "[phone] doctor"),
    ("(555)123-4567", "[phone]"),
    ("555.123.4567", "[phone]"),
    ("555-123-4567 nurse line", "[phone] nurse line"),
    ("555 123 4567", "[phone]"),
    ("my mobile 07700 900123", "my mobile [phone]"),
    ("020 7946 0958", "[phone]"),
    ("0161 496 0000 clinic", "[phone] clinic"),
])
def test_phone_numbers_are_masked(query, expected):
    assert mask(query) == expected


@pytest.mark.parametrize("query, expected", [
    ("nhs number 9434765919", "nhs number [number]"),
    ("card 4111 1111 1111 1111", "card [number]"),
    ("card 4111-1111-1111-1111", "card [number]"),
    ("ssn 123-45-6789", "ssn [number]"),
    ("patient id 12345", "patient id [number]"),
    ("ref 98765432101234 angina", "ref [number] angina"),
])
def test_long_digit_runs_are_masked(query, expected):
    assert mask(query) == expected


@pytest.mark.parametrize("query, expected", [
    ("dob 12/03/1980 heart murmur", "dob [date] heart murmur"),
    ("born 3/12/80", "born [date]"),
    ("born 12.03.1980", "born [date]"),
    ("born 12-3-1980", "born [date]"),
    ("born 1980-03-12 af", "born [date] af"),
    ("born 3 march 1980", "born [date]"),
    ("born 3rd of march 1980", "born [date]"),
    ("born march 3, 1980", "born [date]"),
    ("born March 3rd 1980", "born [date]"),
    ("born 3 Mar. 1980", "born [date]"),
    ("born in march 1980", "born in [date]"),
    ("my birthday is 14th july", "my birthday is [date]"),
])
def test_dates_of_birth_are_masked(query, expected):
    assert mask(query) == expected


@pytest.mark.parametrize("query", [
    "bp 120/80 is that normal",
    "blood pressure 140/90 at 65",
    "chest pain for 2 weeks",
    "age 45 male palpitations",
    "ldl 190 mg/dl",
    "1 in 5 people",
    "born in 1980 risk of heart disease",
    "10,000 steps a day",
    "heart rate 180 bpm",
    "hba1c 6.5",
    "may i take aspirin",
    "afib for 3 years after covid 19",
    "qt interval 450 ms",
    "ef 35% after heart attack",
    "leaky heart valve",
])
def test_ordinary_text_and_clinical_numbers_are_kept(query):
    assert mask(query) == query


def test_everything_in_one_query_is_masked_and_the_words_kept():
    query = "I'm jo@example.org, born 01/02/1975, call 555-123-4567 or +44 7700 900123, nhs 943 476 5919"
    assert mask(query) == "I'm [email], born [date], call [phone] or [phone], nhs [phone]"
    assert not any(ch.isdigit() for ch in mask(query))


def test_normalised_is_case_folded_with_whitespace_collapsed():
    assert normalise("  Leaky\tHEART\n valve  ") == "leaky heart valve"
    assert normalise("Straße") == "strasse"


def test_masked_query_normalises_first():
    assert masked_query("  Email ME at  John@Example.COM ") == "email me at [email]"
