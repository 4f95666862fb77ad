"""Who signed an answer: person names and professional credentials, as a Q&A
page writes them in a signature ("Dr. David H. Adams, MD")."""
from __future__ import annotations

import re

NAME_PARTICLES = {"van", "von", "de", "der", "den", "del", "della", "da", "di", "du", "la", "le", "al", "bin", "ibn"}
NAME_SUFFIXES = {"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"}
NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")  # David, H., O'Brien, Smith-Jones


def is_person_name(name: str) -> bool:
    """Two to six capitalised name words ("David H. Adams", "Anna de la Cruz")."""
    words = name.split()
    if not 2 <= len(words) <= 6 or words[-1] in NAME_PARTICLES:
        return False
    return all(w in NAME_PARTICLES or (w[0].isupper() and NAME_WORD.fullmatch(w)) for w in words)


def is_credential(token: str) -> bool:
    """MD, PhD, M.D., RN, PA-C, FACC: short, letters, at least two capitals."""
    return bool(re.fullmatch(r"[A-Z][A-Za-z.-]{0,11}", token)) and sum(c.isupper() for c in token) >= 2
