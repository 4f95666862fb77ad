"""Word-level text handling shared by the index (vocabulary, lexical index)
and the searcher (lexical queries, spelling, highlighting), so both sides
cut and stem words identically."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# A short English stop list: function words that carry no topic. Kept small on
# purpose; "heart", "blood" etc. are topic words here and stay.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each few for from further get gets getting got had hadn't has hasn't have haven't
having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm
i've if in into is isn't it it's its itself just let's like me more most mustn't my myself no nor
not of off on once only or other ought our ours ourselves out over own please same shan't she she'd
she'll she's should shouldn't so some such than that that's the their theirs them themselves then
there there's these they they'd they'll they're they've this those through to too under until up
very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's which
while who who's whom why why's will with won't would wouldn't you you'd you'll you're you've your
yours yourself yourselves also really thing things way ways lot lots much many s t
""".split())

_stemmer = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower-case and strip accents ("Español" and "Espanol" meet)."""
    if text.isascii():  # the common case, and 50x cheaper
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word.split("'")[0])


def stems(text: str) -> list[str]:
    return [stem(w) for w in content_words(text)]
