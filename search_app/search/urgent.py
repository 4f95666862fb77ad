"""Urgent-symptom notice: does a query describe what may be an emergency
happening now (crushing chest pain, a face drooping, someone not breathing)?

This is NOT a diagnosis tool. It only decides whether a notice to call
emergency services comes with the results: above them on the readers' page,
as the `urgent` object of an API search (:func:`urgent_notice` words it once,
for both, so an app built on the API can say what the page says); the
results are shown either way. A missed trigger means no notice; a false one means an
unneeded notice, so the list errs on the side of showing it.

The triggers live in the reviewed data file ``search_app/search/data/urgent_triggers.tsv``
(its header says how it was reviewed). Format, one trigger a line::

    sign<TAB>part [+ part ...]

* ``sign`` is one of :data:`SIGNS` (what the notice names).
* A trigger fires when **every** part occurs in the query, in any order.
* A part is one or more phrases separated by ``|``; it occurs when any of its
  phrases occurs as consecutive words.
* ``@name`` in place of a phrase stands for every phrase of a set defined
  earlier in the file with a line ``@name<TAB>phrase | phrase ...``.
* Phrases are plain words: no regular expressions, no wildcards, no stemming;
  list each word form you mean ("drooping | droopy | drooped").
* ``#`` starts a comment line; blank lines are ignored. A malformed line is a
  ``ValueError`` naming ``path:line``.

Query and phrases are normalised alike: cut into the lexical index's words
(``indexer.text.words``: lower-cased, accents folded, curly apostrophes
straightened, punctuation splits words), contractions are spelled
out ("can't", "cant" and "cannot" are all "can not"; "I'm" is "i am"; "dad's"
is "dad"), and the words "a", "an" and "the" are ignored ("having a heart
attack" = "having heart attack"; ``indexer.text.ARTICLES``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from indexer.text import ARTICLES, words

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "urgent_triggers.tsv"

# What each sign column value is called in the notice ("... can be a sign of X").
SIGNS = {
    "heart attack": "a heart attack",
    "stroke": "a stroke",
    "cardiac arrest": "cardiac arrest",
    "breathing": "a breathing emergency",
    "fainting": "a serious heart rhythm problem",
    "bleeding": "a blood clot in the lungs or another serious problem",
}

_ALLOWED_PATTERN_CHARS = re.compile(r"[a-z0-9' |+@_-]*")
_NEGATIVE_BASES = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}
_NO_APOSTROPHE = {
    "cant": ("can", "not"), "cannot": ("can", "not"), "wont": ("will", "not"), "dont": ("do", "not"),
    "doesnt": ("does", "not"), "didnt": ("did", "not"), "isnt": ("is", "not"), "arent": ("are", "not"),
    "wasnt": ("was", "not"), "werent": ("were", "not"), "couldnt": ("could", "not"),
    "wouldnt": ("would", "not"), "hasnt": ("has", "not"), "havent": ("have", "not"),
    "im": ("i", "am"), "ive": ("i", "have"),
}
_IS_BEFORE = frozenset({"he", "she", "it", "that", "there", "what", "who", "where", "here"})
_SUFFIXES = {"'m": "am", "'re": "are", "'ve": "have", "'ll": "will", "'d": "would"}


def normalise(text: str) -> tuple[str, ...]:
    """The words of `text` as triggers see them (see the module docstring)."""
    out: list[str] = []
    for token in words(text):
        if token in _NO_APOSTROPHE:
            out.extend(_NO_APOSTROPHE[token])
        elif token.endswith("n't"):
            base = token[:-3]
            out.extend((_NEGATIVE_BASES.get(base, base), "not"))
        elif token.endswith("'s"):
            base = token[:-2]
            out.extend((base, "is") if base in _IS_BEFORE else (base,))
        elif "'" in token:
            base, suffix = token.split("'", 1)
            out.extend((base, _SUFFIXES["'" + suffix]) if "'" + suffix in _SUFFIXES else (base,))
        else:
            out.append(token)
    return tuple(w for w in out if w not in ARTICLES)


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    first = phrase[0]
    return any(words[i] == first and words[i:i + n] == phrase for i in range(len(words) - n + 1))


@dataclass(frozen=True)
class Trigger:
    sign: str                                   # a key of SIGNS
    parts: tuple[tuple[tuple[str, ...], ...], ...]  # all parts; each: alternative phrases (word tuples)
    line: int                                   # where in the file, for review and tests
    text: str                                   # the pattern as written

    def matches(self, words: tuple[str, ...], present: frozenset[str] | None = None) -> bool:
        """`present`: the set of `words`, so a phrase whose first word is
        absent is rejected by one look-up (every search checks every trigger)."""
        present = frozenset(words) if present is None else present
        return all(any(phrase[0] in present and _contains(words, phrase) for phrase in part)
                   for part in self.parts)


class UrgentTriggers:
    def __init__(self, triggers: list[Trigger]):
        self.triggers = triggers

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> "UrgentTriggers":
        return cls.parse(Path(path).read_text(encoding="utf-8"), str(path))

    @classmethod
    def parse(cls, text: str, name: str = "<triggers>") -> "UrgentTriggers":
        sets: dict[str, tuple[tuple[str, ...], ...]] = {}
        triggers: list[Trigger] = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{name}:{number}"
            columns = raw.rstrip("\r\n").split("\t")
            if len(columns) != 2:
                raise ValueError(f"{where}: expected two TAB-separated columns, got {len(columns)}")
            head, pattern = columns[0].strip(), columns[1].strip().lower()
            if not _ALLOWED_PATTERN_CHARS.fullmatch(pattern):
                raise ValueError(f"{where}: only words, spaces, apostrophes, hyphens, '|', '+' and '@name' "
                                 f"are allowed (no regular expressions): {pattern!r}")
            if head.startswith("@"):
                if "+" in pattern:
                    raise ValueError(f"{where}: a set is one list of phrases separated by '|', without '+'")
                if head in sets:
                    raise ValueError(f"{where}: set {head} is defined twice")
                sets[head] = cls._phrases(pattern, sets, where)
                continue
            if head not in SIGNS:
                raise ValueError(f"{where}: unknown sign {head!r}; use one of {', '.join(SIGNS)}")
            parts = tuple(cls._phrases(part, sets, where) for part in pattern.split("+"))
            triggers.append(Trigger(sign=head, parts=parts, line=number, text=pattern))
        if not triggers:
            raise ValueError(f"{name}: no triggers")
        return cls(triggers)

    @staticmethod
    def _phrases(part: str, sets: dict, where: str) -> tuple[tuple[str, ...], ...]:
        phrases: list[tuple[str, ...]] = []
        for alternative in part.split("|"):
            alternative = alternative.strip()
            if alternative.startswith("@"):
                if alternative not in sets:
                    raise ValueError(f"{where}: set {alternative} is not defined above this line")
                phrases.extend(sets[alternative])
                continue
            phrase = normalise(alternative)
            if not phrase:
                raise ValueError(f"{where}: empty phrase in {part.strip()!r}")
            phrases.append(phrase)
        return tuple(phrases)

    def matches(self, text: str) -> list[Trigger]:
        """Every trigger the text sets off (empty: no notice)."""
        words = normalise(text[:5000])
        if not words:
            return []
        present = frozenset(words)
        return [t for t in self.triggers if t.matches(words, present)]

    def signs(self, text: str) -> list[str]:
        """The signs the text mentions, as the notice words them, in file order, once each."""
        return list(dict.fromkeys(SIGNS[t.sign] for t in self.matches(text)))


@lru_cache(maxsize=1)
def default_triggers() -> UrgentTriggers:
    return UrgentTriggers.load(DEFAULT_PATH)


def urgent_signs(text: str) -> list[str]:
    return default_triggers().signs(text)


# --------------------------------------------------------------------------- the notice, in words

@dataclass(frozen=True)
class EmergencyNumber:
    number: str     # what to dial ("911"); the page makes it a tel: link
    region: str     # where it is the number ("US"), for the API
    where: str      # the same in the notice's words ("in the US")


EMERGENCY_NUMBERS = (EmergencyNumber("911", "US", "in the US"), EmergencyNumber("112", "Europe", "in Europe"))
NOTICE_TITLE = "If this is happening now, call emergency services"
WAIT_ADVICE = "Do not wait to see if it passes, and do not drive yourself to hospital."
CPR_ADVICE = ("If someone has collapsed and is not breathing normally, start CPR and ask someone to bring "
              "a defibrillator (AED).")


@dataclass(frozen=True)
class UrgentNotice:
    """What the notice says, once for the page and the API. `level` is
    always "emergency" today; it is named so a milder level can be added
    without clients mistaking it for this one."""

    conditions: tuple[str, ...]           # as worded in SIGNS: "a heart attack", "a stroke"
    numbers: tuple[EmergencyNumber, ...] = EMERGENCY_NUMBERS
    level: str = "emergency"
    title: str = NOTICE_TITLE

    @property
    def call(self) -> str:
        numbers = ", ".join(f"{n.number} {n.where}" for n in self.numbers)
        return f"Call {numbers}, or your local emergency number now."

    @property
    def sign(self) -> str:
        return f"What you describe can be a sign of {' or '.join(self.conditions)}."

    @property
    def advice(self) -> str:
        cpr = SIGNS["cardiac arrest"] in self.conditions
        return WAIT_ADVICE + (" " + CPR_ADVICE if cpr else "")

    @property
    def message(self) -> str:
        """The whole notice as one text (the API's `message`)."""
        return f"{self.call} {self.sign} {self.advice}"


def urgent_notice(text: str) -> UrgentNotice | None:
    """The notice for a query, or None when no trigger fires."""
    signs = urgent_signs(text)
    return UrgentNotice(conditions=tuple(signs)) if signs else None
