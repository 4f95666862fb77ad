"""Article → passages.

Passages are whole sentences packed up to a word budget, with a one-sentence
overlap so that a fact split across a boundary is still found whole in one
passage. Headings (indexer.repair.blocks) are not sentences: a passage
carries the heading in force where it starts (`Passage.heading`), readers
see it apart from the prose, and the embed text keeps every heading so the
model and the lexical index lose nothing. List items are sentences of their
own, each on its own line. A sentence over the budget is not cut into word
windows (a snippet would start mid-sentence): it stays whole when it fits
the model's window, else it is cut at clause boundaries. The budget is in words; the model's window is its registry spec's
`max_tokens` word pieces, and 60 words (with the title in front) stays well
inside it even for dense clinical vocabulary: `count_tokens` counts with
the model's own tokenizer (no weights loaded), and the tests check every
registered model on the real corpus.
Short passages ranked better than 120-word ones on the dev queries
(figures: docs/quality.md, "What the ranking does"): a passage about one thing
matches a question about that thing more sharply.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from indexer.embedding.registry import DEFAULT_MODEL, model_spec
from indexer.models import Article, Passage
from indexer.repair.blocks import Block, structure

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "prof", "st", "vs", "etc", "e.g", "i.e", "eg", "ie",
    "fig", "no", "approx", "u.s", "inc", "jr", "sr", "mg", "ml", "cf", "al",
}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class ChunkingConfig:
    max_words: int = 60
    overlap_sentences: int = 1


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; paragraphs and list lines always break."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)", text):
        block = " ".join(block.split())
        if not block:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(block):
            candidate = block[start:match.start()].strip()
            last_word = candidate.rsplit(" ", 1)[-1].rstrip(".").lower()
            if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
                continue
            sentences.append(candidate)
            start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


@functools.lru_cache(maxsize=None)
def _tokenizer(model: str):
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(model_spec(model).tokenizer_path()))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str, model: str = DEFAULT_MODEL) -> int:
    """Word pieces model `model` would read for `text`, special tokens
    included, before truncation (what the runtimes' `count_tokens` say)."""
    return len(_tokenizer(model).encode(text).ids)


def model_window(model: str = DEFAULT_MODEL) -> int:
    """Word pieces model `model` reads; the rest of a text is cut off."""
    return model_spec(model).max_tokens


# Where an over-long sentence may be cut, strongest first: clause
# punctuation, then a comma, then the end of a "Sign 7.5%" cell of a
# flattened symptom table.
_CLAUSE_ENDS = (re.compile(r"[;:—]$"), re.compile(r",$"), re.compile(r"%$"))


def _cut_at_clauses(words: list[str], limit: int) -> list[list[str]]:
    """`words` cut after clause punctuation into pieces of at most `limit`
    words; [] when some stretch has no such place."""
    pieces: list[list[str]] = []
    start = 0
    while len(words) - start > limit:
        window = range(start + limit - 1, start + limit // 3, -1)  # latest cut first, none too early
        cut = next((i for pattern in _CLAUSE_ENDS for i in window if pattern.search(words[i])), None)
        if cut is None:
            return []
        pieces.append(words[start:cut + 1])
        start = cut + 1
    return pieces + [words[start:]]


def _fit_sentence(sentence: str, context: str, config: "ChunkingConfig") -> list[str]:
    """A sentence as passage units. Why not word windows: a passage cut
    mid-sentence reads as a broken snippet. A sentence over the word budget
    stays whole (a passage of its own) when it fits the model's window with
    `context` (title and heading) in front; a longer one is cut at clause
    boundaries, and only one with no such place at all by words."""
    words = sentence.split()
    if len(words) <= config.max_words or count_tokens(f"{context}\n{sentence}") <= model_window():
        return [sentence]
    pieces = _cut_at_clauses(words, config.max_words) or \
        [words[i:i + config.max_words] for i in range(0, len(words), config.max_words)]
    return [" ".join(piece) for piece in pieces]


def _word_count(sentence: str) -> int:
    return len(sentence.split())


@dataclass(frozen=True)
class _Unit:
    """One sentence of a passage: what readers see (`text`, "- " in front
    of a list item's first sentence), what the model reads (`plain`: as the
    source wrote it, its "- " included, so that an embedding reads a list
    as it did before the repair), whether it is part of a list item and
    starts one, the heading in force and the headings right before it."""

    text: str
    plain: str
    in_item: bool
    starts_item: bool
    heading: str | None
    leading: tuple[str, ...]
    list_key: int | None = None  # the list (a lead-in sentence and its items) this belongs to


def _unit_words(unit: _Unit) -> int:
    return _word_count(unit.plain) + sum(map(_word_count, unit.leading))


_LIST_LINE = re.compile(r"\n(?=(?:[-*•]|\d+[.)])\s)")
_MARKER = re.compile(r"^[-*•]\s+")


def _block_units(block: Block, title: str, heading: str | None, leading: tuple[str, ...],
                 config: ChunkingConfig, key: int) -> list[_Unit]:
    """A block's sentences; each line of a list is an item. The lines of a
    list and the sentence that leads into it share `key`."""
    units: list[_Unit] = []
    lines = _LIST_LINE.split(block.text)
    for number, line in enumerate(lines):
        line = " ".join(line.split())
        marked = bool(_MARKER.match(line))
        item = block.kind == "item" or marked
        context = f"{title}\n{heading}" if heading else title
        pieces = [piece for s in split_sentences(_MARKER.sub("", line)) for piece in _fit_sentence(s, context, config)]
        for n, piece in enumerate(pieces):
            starts = item and n == 0
            plain = f"- {piece}" if starts and marked else piece
            # an item's first sentence (a flattened list's last line may run on into prose)
            in_list = len(lines) > 1 and (n == 0 if number > 0 else n == len(pieces) - 1)
            units.append(_Unit(f"- {piece}" if starts else piece, plain, item, starts, heading, leading,
                               key if in_list else None))
            leading = ()
    return units


def _units(article: Article, config: ChunkingConfig) -> list[_Unit]:
    """The article's sentences and list items in order; headings are not
    units but travel on the units after them."""
    units: list[_Unit] = []
    heading, run = None, []
    for key, block in enumerate(structure(article.text)):
        if block.kind == "heading":
            run.append(block.text)
            heading = ": ".join(run)
            continue
        units += _block_units(block, article.title, heading, tuple(run), config, key)
        run = []
    return units


def _atoms(units: list[_Unit], title: str, config: ChunkingConfig) -> list[list[_Unit]]:
    """Units as they are packed: a list with the sentence that leads into it
    is packed as the scrape's one flattened sentence was (a list cut from
    "you may feel" loses what it lists): whole when it fits the budget, or
    the model's window as a passage of its own, else in pieces of whole
    items up to the budget."""
    atoms: list[list[_Unit]] = []
    for unit in units:
        if atoms and unit.list_key is not None and atoms[-1][-1].list_key == unit.list_key:
            atoms[-1].append(unit)
        else:
            atoms.append([unit])
    fitted: list[list[_Unit]] = []
    for atom in atoms:
        fitted += [atom] if len(atom) == 1 or _fits(atom, title, config) else _pieces(atom, config)
    return fitted


def _fits(atom: list[_Unit], title: str, config: ChunkingConfig) -> bool:
    if sum(_unit_words(u) for u in atom) <= config.max_words:
        return True
    context = f"{title}\n{atom[0].heading}" if atom[0].heading else title
    return count_tokens(f"{context}\n{' '.join(u.plain for u in atom)}") <= model_window()


def _pieces(atom: list[_Unit], config: ChunkingConfig) -> list[list[_Unit]]:
    pieces: list[list[_Unit]] = [[]]
    for unit in atom:
        if pieces[-1] and sum(_unit_words(u) for u in pieces[-1]) + _unit_words(unit) > config.max_words:
            pieces.append([])
        pieces[-1].append(unit)
    return pieces


def _groups(units: list[_Unit], title: str, config: ChunkingConfig) -> list[list[_Unit]]:
    """Units packed into passages up to the word budget, one unit of overlap."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    carried = 0  # how many units at the start of `current` repeat the group before
    # Headings count where they stand, as when they were sentences: the
    # model reads them in the passage all the same.
    words = lambda group: sum(_unit_words(u) for u in group)  # noqa: E731
    for atom in _atoms(units, title, config):
        if current and words(current) + words(atom) > config.max_words:
            groups.append(current)
            overlap = current[-config.overlap_sentences:] if config.overlap_sentences else []
            # Carry the overlap only if it leaves room for what comes next.
            if words(overlap) + words(atom) > config.max_words:
                overlap = []
            current, carried = list(overlap), len(overlap)
        current.extend(atom)
    if current:
        groups.append(current)
    # A last passage of a few words ("Heeding them can save your life.") says
    # little on its own and would match on its title alone: fold it into the
    # one before, going over budget by at most a third (never onto a long
    # sentence that fills the model's window alone).
    if len(groups) > 1:
        tail = groups[-1][carried:]
        if words(tail) < config.max_words // 3 and words(groups[-2] + tail) <= config.max_words * 4 // 3:
            groups[-2] = groups[-2] + tail
            groups.pop()
    return groups


def _reader_text(group: list[_Unit]) -> str:
    """Sentences joined by spaces; a list item on a line of its own."""
    text = group[0].text
    for before, unit in zip(group, group[1:]):
        new_line = unit.starts_item or (before.in_item and not unit.in_item)
        text += ("\n" if new_line else " ") + unit.text
    return text


def _embed_text(title: str, group: list[_Unit]) -> str:
    """Title, the heading in force, then the words with every heading met
    inside the passage in its place: the model and the lexical index read
    the headings as before, readers see them apart."""
    heading = group[0].heading
    words = [group[0].plain] + [" ".join([*u.leading, u.plain]) for u in group[1:]]
    return "\n".join([title] + ([heading] if heading else []) + [" ".join(words)])


def chunk_article(article: Article, config: ChunkingConfig = ChunkingConfig()) -> list[Passage]:
    """The article's passages: whole sentences and list items up to the word
    budget, each with the heading in force where it starts."""
    return [
        Passage(
            article_id=article.id,
            position=position,
            text=_reader_text(group),
            embed_text=_embed_text(article.title, group),
            sentences=tuple(u.text for u in group),
            heading=group[0].heading,
        )
        for position, group in enumerate(_groups(_units(article, config), article.title, config))
    ]
