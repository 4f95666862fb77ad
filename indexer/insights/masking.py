"""What looks personal in a reader's query is masked before the query is
stored in the search log (docs/privacy.md lists it with examples), so the
log never holds a reader's e-mail address, phone number, date of birth or
an identifying number (an NHS, social security or card number) even when
a reader types one into the search box.

The rules err towards masking: a false mask costs one query's wording in
the editors' report, a missed one keeps something personal for the
retention period. They are also kept narrow enough that the figures readers
ask about survive ("120/80", "2 weeks", "age 45", "ldl 190", "1 in 5"),
since those are what the report is for:

* e-mail addresses -> ``[email]``;
* dates with a day or a year (``12/03/1980``, ``12.3.80``, ``1980-03-12``,
  ``3 March 1980``, ``March 3rd, 1980``, ``3rd of March``, ``March 1980``)
  -> ``[date]``; a year alone ("born in 1980") and two numbers with a slash
  ("120/80", a blood pressure) are not dates;
* phone numbers: international (``+44 20 7946 0958``, ``+1-555-123-4567``),
  North American (``(555) 123-4567``, ``555.123.4567``, ``555-123-4567``,
  ``555 123 4567``) and national numbers with a leading 0 (``07700 900123``,
  ``020 7946 0958``) -> ``[phone]``;
* any other run of digits that is an identifier rather than a measure:
  5 or more digits in a row (``12345``, an NHS number ``9434765919``), or
  groups of digits joined by spaces or hyphens that make 9 digits or more (a
  card ``4111 1111 1111 1111``, ``123-45-6789``) -> ``[number]``; an NHS
  number written ``943 476 5919`` has a phone number's shape and becomes
  ``[phone]``.

Names, street addresses and other free text are not recognised (no list of
names can be complete); the report's k-threshold keeps any wording asked by
fewer than k searches out of sight.
"""
from __future__ import annotations

import re

EMAIL = "[email]"
PHONE = "[phone]"
DATE = "[date]"
NUMBER = "[number]"

_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_DATES = [
    # 12/03/1980, 12-3-80, 12.03.1980 (day and month either way round)
    re.compile(r"(?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?![\d/.-]*\d)"),
    # 1980-03-12, 1980/3/12
    re.compile(r"(?<![\d/.-])(?:19|20)\d\d[/.-]\d{1,2}[/.-]\d{1,2}(?![\d/.-]*\d)"),
    # 3 March 1980, 3rd of march, 3 mar. 80
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+(?:{_YEAR}|'?\d\d))?\b", re.IGNORECASE),
    # March 3, 1980; march 3rd
    re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?:,?\s+{_YEAR}\b)?", re.IGNORECASE),
    # March 1980
    re.compile(rf"\b{_MONTH}\s+{_YEAR}\b", re.IGNORECASE),
]

_SEP = r"[ .-]?"
_PHONES = [
    # +44 20 7946 0958, +44 (0)20 7946 0958, +1-555-123-4567, +33 1 23 45 67 89
    re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,6}(?!\w)"),
    # (555) 123-4567
    re.compile(rf"(?<!\w)\(\d{{3}}\)\s?\d{{3}}{_SEP}\d{{4}}(?!\w)"),
    # 555.123.4567, 555-123-4567, 555 123 4567
    re.compile(r"(?<![\w.-])\d{3}([ .-])\d{3}\1\d{4}(?![\w-]|\.\d)"),
    # 07700 900123, 020 7946 0958, 0161 496 0000
    re.compile(rf"(?<![\w.-])0\d{{2,4}}{_SEP}\d{{3,4}}{_SEP}\d{{3,4}}(?![\w-]|\.\d)"),
]
_MIN_PHONE_DIGITS = 7

# Digits in groups joined by single spaces or hyphens (a card, NHS or social security number).
_GROUPED_DIGITS = re.compile(r"(?<![\w.-])\d{2,6}(?:[ -]\d{2,6}){2,}(?![\w-]|\.\d)")
_MIN_GROUPED_DIGITS = 9
_DIGIT_RUN = re.compile(r"\d{5,}")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _if_enough_digits(label: str, least: int):
    def replace(match: re.Match) -> str:
        return label if _digits(match.group(0)) >= least else match.group(0)
    return replace


def mask(text: str) -> str:
    """`text` with e-mail addresses, dates, phone numbers and identifying
    digit runs replaced by [email], [date], [phone] and [number] (in that
    order, so a date is never taken for a phone number)."""
    if "@" in text:
        text = _EMAIL.sub(EMAIL, text)
    if not any(ch.isdigit() for ch in text):  # every remaining rule needs a digit
        return text
    for pattern in _DATES:
        text = pattern.sub(DATE, text)
    phone = _if_enough_digits(PHONE, _MIN_PHONE_DIGITS)
    for pattern in _PHONES:
        text = pattern.sub(phone, text)
    text = _GROUPED_DIGITS.sub(_if_enough_digits(NUMBER, _MIN_GROUPED_DIGITS), text)
    return _DIGIT_RUN.sub(NUMBER, text)


def normalise(text: str) -> str:
    """The query as the log keys it: case folded and whitespace collapsed,
    so "Chest  Pain" and "chest pain" count as one question."""
    return " ".join(text.casefold().split())


def masked_query(text: str) -> str:
    """What the log stores of a query: normalised, then masked."""
    return mask(normalise(text))
