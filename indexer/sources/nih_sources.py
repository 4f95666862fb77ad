"""MedQuAD's conventions, shared by the JSONL and the XML importer so that the
same answer imported either way comes out identical.

MedQuAD labels each answer with a short code of the NIH website it came from
("GARD", "NHLBI", ...). Readers see the `source` beside every passage and a
code means nothing to them, so importers show the organisation's full name.
MedQuAD names no person anywhere: attribution is the organisation and the URL.
"""
from __future__ import annotations

from typing import Iterable

ORGANISATIONS: dict[str, str] = {
    "NHLBI": "National Heart, Lung, and Blood Institute (NHLBI)",
    "GARD": "Genetic and Rare Diseases Information Center (GARD)",
    "GHR": "Genetics Home Reference (GHR)",
    "NINDS": "National Institute of Neurological Disorders and Stroke (NINDS)",
    "NIDDK": "National Institute of Diabetes and Digestive and Kidney Diseases (NIDDK)",
    "NIHSeniorHealth": "NIHSeniorHealth (National Institutes of Health)",
    "MPlusHealthTopics": "MedlinePlus Health Topics (National Library of Medicine)",
}

_BY_CODE = {code.casefold(): name for code, name in ORGANISATIONS.items()}


def organisation_name(source: str | None) -> str | None:
    """The display name for a source code. Anything that is not a known code
    (an organisation already written out, a code never seen) is kept as given
    rather than guessed at."""
    if source is None:
        return None
    code = source.strip()
    return _BY_CODE.get(code.casefold(), code) or None


def topic_synonyms(focus: str | None, synonyms: Iterable[str]) -> tuple[str, ...]:
    """The topic's name first, then its other names, each once (ignoring case).

    MedQuAD's questions are built from templates ("What is (are) X ?"), so the
    plain topic name is the most useful bridge between a reader's words and
    the answer; it goes first for the lay-language step that reads synonyms.
    """
    merged: list[str] = []
    seen: set[str] = set()
    for name in (focus, *synonyms):
        name = " ".join((name or "").split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            merged.append(name)
    return tuple(merged)
