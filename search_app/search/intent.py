"""What kind of answer a question asks for, read from its wording.

Health articles often come in families about one topic: what it is, its
symptoms, causes, treatment, prevention, tests, outlook, inheritance. Dense
retrieval finds the topic well but is loose about which member of the family
answers the question: "what does afib feel like" wants the symptoms entry,
not the overview. We read the need from cue words in the query and the same
need from the article's title (titles are questions: "What are the symptoms
of ...?", "How to prevent ...?"), and the searcher favours articles whose
need matches. A query with no clear cue favours nothing.
"""
from __future__ import annotations

import contextlib
import re
from contextvars import ContextVar
from typing import Iterable, Iterator

# need -> cue patterns in a reader's query (lower-cased)
QUERY_CUES: dict[str, str] = {
    "symptoms": r"symptom|signs?\b|feel(s|ing)? like|what does .* feel|how do (i|you) know if|warning sign",
    "causes": r"\bcaus|\bwhy (do|does|did|is|are|would)|\breason|\btrigger|what makes|\bleads? to\b",
    "treatment": r"\btreat|\bcure|\bfix\b|\bmedicine|\bmedication|\bdrugs?\b|\bpills?\b|\bsurgery|\bmanag"
                 r"|\bget rid|\btherap|what (can|should) (i|you|we) do|\bwhat to do\b|\bhelp with|\bstop (it|them|my)",
    "prevention": r"\bprevent|\bavoid|\bkeep .* from|\bstop .* from|\blower (my|the|your) (risk|chance)"
                  r"|\breduce (my|the|your) (risk|chance)|\bprotect",
    "diagnosis": r"\btest(s|ed|ing)?\b|\bdiagnos|\bscan\b|\bcheck(ed)? for|\bdetect|\bfind out if|\bexam\b",
    "outlook": r"\boutlook|\bprognosis|\bgo(es)? away|\blife expectancy|\bhow long .* live|\bsurviv"
               r"|\bpermanent|\bget better|\brecover",
    "inheritance": r"\binherit|\bhereditar|\brun(s)? in (the |my )?famil|\bpass(ed)? (it )?(on|down)"
                   r"|\bgenes?\b|\bgenetic|\bcarrier",
    "risk": r"\bat risk|\bwho gets|\bmore likely|\brisk factor|\bchances? of",
    "frequency": r"\bhow common|\bhow many people|\bhow often .* happen|\bprevalen",
}

# need -> pattern on an article title (question-shaped titles)
TITLE_CUES: dict[str, str] = {
    "symptoms": r"\bsymptoms?\b|\bsigns\b",
    "causes": r"^what causes\b|\bcauses of\b",
    "treatment": r"\btreatments?\b|\btreated\b",
    "prevention": r"\bprevent",
    "diagnosis": r"\bdiagnos|\btests? for\b",
    "outlook": r"\boutlook\b|\bprognosis\b",
    "inheritance": r"\binherited\b|\bgenetic changes\b",
    "risk": r"\bat risk\b|\brisk factors?\b",
    "frequency": r"\bhow many people\b",
}

_QUERY = {need: re.compile(p) for need, p in QUERY_CUES.items()}
_TITLE = {need: re.compile(p, re.IGNORECASE) for need, p in TITLE_CUES.items()}


# The evaluation's hook (search_app/evaluation/components.py): which needs'
# query cue lists are read; None, the default, is all of them.
_CUE_LISTS: ContextVar[frozenset[str] | None] = ContextVar("cue_lists", default=None)


@contextlib.contextmanager
def only_cue_lists(needs: Iterable[str]) -> Iterator[None]:
    """Read queries with these needs' cue lists alone, inside the block, so
    the evaluation can judge each list by turning it off; nothing else
    changes (title cues, the searcher, other threads)."""
    token = _CUE_LISTS.set(frozenset(needs))
    try:
        yield
    finally:
        _CUE_LISTS.reset(token)


def query_needs(query: str) -> set[str]:
    text = query.lower()
    enabled = _CUE_LISTS.get()
    return {need for need, pattern in _QUERY.items()
            if (enabled is None or need in enabled) and pattern.search(text)}


def title_need(title: str) -> str | None:
    """The one need a title asks about, or None for overviews and others."""
    found = [need for need, pattern in _TITLE.items() if pattern.search(title)]
    return found[0] if len(found) == 1 else None
