"""Word-level text handling shared by the index (vocabulary, lexical index)
and the searcher (lexical queries, spelling, highlighting, glossary, urgent
notice), so every side cuts, folds and stems words identically. This is the
one home of: folding, the word rule (`words`, and `word_spans` for where the
words stand), the stop-word sets, and the web-address check. The searcher
may import this module; nothing here imports the searcher."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# A word: ASCII letters and digits after folding, with at most one
# apostrophe suffix ("heart's", "don't"). Anything else splits words:
# hyphens ("mini-stroke" = "mini stroke"), underscores, other punctuation,
# letters folding cannot make ASCII ("ß", Greek). The lexical index is built
# from these words, so changing the rule changes ranking.
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# The Q&A page importer's compounds: the same letters and digits, but
# hyphens and apostrophes inside a word keep it whole ("long-term",
# "o'brien's", "services'2008"): its paragraph openings are compared by them
# (see `words(..., compounds=True)`).
COMPOUND = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")

# A short English stop list: function words that carry no topic. Kept small on
# purpose; "heart", "blood" etc. are topic words here and stay. Used by the
# lexical index, spelling and highlighting.
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

# Phrase matchers ignore far fewer words than STOP_WORDS, because their
# phrases are made of exactly the words it drops. Each set below is named for
# its one user and says why it differs.

# Urgent-notice triggers (search_app/pages/urgent.py) ignore only the articles:
# "can not breathe", "my chest", "he is not", "right now" are trigger words.
ARTICLES = frozenset({"a", "an", "the"})
# The lay glossary (search_app/search/glossary.py) ignores "the", "an" and the
# possessives ("clot in my leg" = "clot in the leg") but keeps "a" ("a fib")
# and every preposition ("hole in the heart").
GLOSSARY_IGNORED = frozenset({"the", "an", "my", "your", "his", "her", "our", "their"})
# The Q&A page importer (indexer/sources/qa_page.py) tells paragraphs that
# open alike by their first two content words; this short list (with "may",
# without "what", "how", "not", "more", ...) is what its splits were checked
# against. STOP_WORDS in its place changed the split of many test pages
# built from the shared MedQuAD corpus (issue 14; the count:
# docs/performance.md, "Paragraph-opening stop words").
OPENING_STOP_WORDS = frozenset({
    "the", "a", "an", "this", "that", "these", "those", "it", "its", "is", "are", "was", "were",
    "be", "your", "you", "in", "of", "and", "or", "to", "for", "with", "if", "when", "there",
    "they", "we", "i", "on", "as", "by", "at", "also", "can", "may"})

# An absolute http(s) address without spaces: the only links stored on an
# article or page, and the only ones the readers' page makes clickable.
WEB_URL = re.compile(r"https?://[^\s]+$", re.IGNORECASE)

_stemmer = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lower-case and strip accents ("Español" and "Espanol" meet); curly
    apostrophes become straight ones."""
    if text.isascii():  # the common case, and far cheaper (docs/performance.md, "`fold`'s ASCII shortcut")
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


def words(text: str, *, compounds: bool = False) -> list[str]:
    """The folded words of `text` (see WORD); with `compounds`, hyphenated
    and apostrophe-joined words stay whole (see COMPOUND)."""
    return (COMPOUND if compounds else WORD).findall(fold(text))


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """`words(text)` with where each stands in `text` itself: (start, end,
    word), where text[start:end] is the word as written (its case, accents,
    curly apostrophe) and `word` its folded form. For marking words in
    displayed text."""
    if text.isascii():
        return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text.lower())]
    # Fold character by character, remembering which character each folded
    # one came from (folding may drop characters or add some: "ﬁ" -> "fi").
    # Folding works per character, so this gives the same words as words().
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        piece = fold(ch)
        folded.append(piece)
        origin.extend([i] * len(piece))
    return [(origin[m.start()], origin[m.end() - 1] + 1, m.group())
            for m in WORD.finditer("".join(folded))]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word.split("'")[0])


def stems(text: str) -> list[str]:
    return [stem(w) for w in content_words(text)]


def is_web_url(url: str | None) -> bool:
    """True for an http:// or https:// address without spaces (see WEB_URL)."""
    return bool(url) and WEB_URL.match(url) is not None
