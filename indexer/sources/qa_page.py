"""Consumer-health Q&A pages, as flat text (or simple HTML), split the way
corpus/what-is-mitral-regurgitation/ was split by hand; corpus/README.md
gives the reasoning, this importer applies it to any page of that layout:

    What is mitral regurgitation (MR)?          <- question: the first line
                                                   (page title, title of every answer)
    <paragraphs>                                <- unsigned answers
    Dr. David H. Adams, MD                      <- signature: "[Dr.] Name, CREDENTIALS"
    Cardiothoracic Surgeon                         + a role line right below it
    <paragraphs>                                <- his answer, up to the next signature
    ...
    Continue Learning about Heart Disease       <- related-article cards follow
    <card title> [title repeated] [source] <summary> <link label>
    ...
    Important: This content reflects ...        <- disclaimer: becomes the Page

Decisions, each made the same way as for the shipped corpus:

* A signature OPENS the answer below it: the page puts attribution before
  content (see its cards), and read the other way the last answer would be
  unsigned while six paragraphs would belong to one surgeon. Everything from
  a signature to the next one is that person's answer. A signature with
  nothing after it is reported, since then the reading may be wrong.
* Paragraphs before the first signature are unattributed, never given to the
  signature below them. Where one such answer ends and the next begins is
  decided by "starting again": a paragraph starts a new answer if it opens
  with the same words as another unsigned paragraph (two or more content
  words, e.g. "The mitral valve ..." three times: separate writers defining
  the valve afresh), or if it opens with the subject of a "What is X?"
  question (a fresh definition). Other paragraphs continue the answer above.
  On the sample page this gives 1 | 2 | 3 | 4-6, exactly the corpus's split.
* Cards: the title line (a line repeating it, even several times run
  together like "XX", is image alt text and is dropped); then an optional
  source line, i.e. a short capitalised name or a doubled string such as
  "National Kidney FoundationNational Kidney Foundation" (collapsed) that
  still has text after it; then the summary; then a link label ("Read More",
  "More Answers", "Start Slideshow", ...) that ends the card. A card without
  a summary gets its title as text so it can still be found. A card with
  neither a summary nor a link label is recognised only if the next card's
  title is repeated (as on the sample page) or the section ends.
  Cards are teasers: they carry a source when one is shown, never an author.
* The last paragraph, when it starts with "Important:" or "Disclaimer:", is
  the page's disclaimer, kept on the Page and not indexed.
* HTML: tags are removed, entities decoded; <p>, headings, lists and tables
  separate paragraphs, <br>, <div> and <li> break lines; script, style and
  <title> contents are dropped. A signature must then be written as two
  lines of one paragraph (e.g. "Dr. Jane Roe, MD<br>Cardiologist").

Ids: the page id is the slug of the file name; answers are
`<page>-answer-<n>` and cards `<page>-related-<n>`, numbered in page order,
so re-importing an unchanged page keeps every id.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

from indexer.models import Article, Page
from indexer.sources.base import CorpusError, make_article, make_page, read_text
from indexer.sources.names import NAME_SUFFIXES, is_credential, is_person_name
from indexer.text import OPENING_STOP_WORDS, words as text_words

RELATED_HEADING = re.compile(r"^continue learning about\b", re.IGNORECASE)
DISCLAIMER_START = re.compile(r"^(important|disclaimer)\s*:", re.IGNORECASE)
LINK_LABELS = {
    "read more", "more answers", "start slideshow", "view slideshow", "watch video", "watch now",
    "learn more", "see more", "continue reading", "read article", "take the quiz", "take quiz",
    "see answer", "see answers", "view answer", "view answers", "more",
}
TITLE_CONNECTORS = {"of", "and", "for", "the", "on", "in", "at", "&", "de", "to"}
DEFINITION_QUESTION = re.compile(r"^what\s+(?:is|are)\s+(?:an?\s+|the\s+)?(?P<subject>.+?)\s*\??$", re.IGNORECASE)
TERMINAL_PUNCTUATION = tuple(".?!:;,…")
MIN_REPEAT_UNIT = 4


@dataclass(frozen=True)
class Line:
    number: int
    text: str


Paragraph = list[Line]


@dataclass
class Answer:
    paragraphs: list[Paragraph] = field(default_factory=list)
    author: str | None = None
    credentials: str | None = None
    signature_line: int = 0


@dataclass
class Card:
    title: Line
    source: str | None
    text: list[str]


# --- HTML to text -------------------------------------------------------------------------

class _HtmlText(HTMLParser):
    """Collect a page's visible text with its paragraph structure."""

    PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "article",
                 "ul", "ol", "dl", "table", "hr", "figure", "header", "footer", "main", "aside", "nav"}
    LINE = {"br", "div", "li", "tr", "dt", "dd", "figcaption", "address", "pre"}
    DROPPED = {"script", "style", "noscript", "template", "title", "svg", "iframe", "object"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.DROPPED:
            self.dropping += 1
        self._break(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.DROPPED and self.dropping:
            self.dropping -= 1
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(re.sub(r"\s+", " ", data))

    def _break(self, tag: str) -> None:
        if tag in self.PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in self.LINE:
            self.parts.append("\n")


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# --- small text tests -----------------------------------------------------------------------

def collapse_repeats(text: str) -> str:
    """"XX" -> "X" when a string is one piece repeated back to back (a title
    printed again as image alt text, a source name doubled by the extraction)."""
    period = (text + text).find(text, 1)
    if period < len(text) and period >= MIN_REPEAT_UNIT:
        return text[:period]
    return text


def is_link_label(text: str) -> bool:
    return text.rstrip(" ›»>→").strip().lower() in LINK_LABELS


def is_role_line(text: str) -> bool:
    words = text.split()
    return (1 <= len(words) <= 8 and len(text) <= 80 and text[0].isupper()
            and not text.endswith(TERMINAL_PUNCTUATION) and not any(c.isdigit() for c in text)
            and not is_link_label(text))


def parse_signature(line: Line, role: Line) -> tuple[str, str] | None:
    """("David H. Adams", "MD, Cardiothoracic Surgeon") for the two lines
    "Dr. David H. Adams, MD" / "Cardiothoracic Surgeon", else None."""
    match = re.fullmatch(r"(?:Dr\.?\s+)?(?P<name>[^,]{3,80}),\s*(?P<creds>.{2,80})", line.text)
    if not match or not is_role_line(role.text):
        return None
    name, tokens = match["name"].strip(), [t.strip() for t in match["creds"].split(",")]
    if not is_person_name(name):
        return None
    if tokens and tokens[0] in NAME_SUFFIXES:  # "John Smith, Jr., MD"
        name, tokens = f"{name}, {tokens[0]}", tokens[1:]
    if not tokens or not all(is_credential(t) for t in tokens):
        return None
    return name, ", ".join(tokens + [role.text])


def looks_like_organisation(text: str) -> bool:
    words = text.split()
    return (1 <= len(words) <= 8 and len(text) <= 80 and not text.endswith(TERMINAL_PUNCTUATION)
            and all(w in TITLE_CONNECTORS or w[0].isupper() for w in words))


# --- page layout ----------------------------------------------------------------------------

def numbered_lines(text: str) -> list[Line]:
    return [Line(n, raw.strip()) for n, raw in enumerate(text.split("\n"), start=1)]


def paragraphs_of(lines: list[Line]) -> list[Paragraph]:
    """Runs of non-empty lines, split at blank lines."""
    paragraphs: list[Paragraph] = [[]]
    for line in lines:
        if line.text:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def split_page(lines: list[Line]) -> tuple[Line, list[Line], list[Line], Paragraph | None]:
    """(question, body lines, card lines, disclaimer paragraph)."""
    content = [i for i, line in enumerate(lines) if line.text]
    question, rest = lines[content[0]], lines[content[0] + 1:]
    disclaimer = None
    tail = paragraphs_of(rest)
    if tail and DISCLAIMER_START.match(tail[-1][0].text):
        disclaimer = tail[-1]
        rest = [line for line in rest if line.number < disclaimer[0].number]
    heading = next((i for i, line in enumerate(rest) if RELATED_HEADING.match(line.text)), len(rest))
    return question, rest[:heading], [line for line in rest[heading + 1:] if line.text], disclaimer


# --- answers --------------------------------------------------------------------------------

def signed_segments(paragraphs: list[Paragraph]) -> Iterator[Paragraph | tuple[str, str, int]]:
    """The body in reading order: paragraphs and (name, credentials, line)
    signatures; a signature inside a paragraph splits it."""
    for paragraph in paragraphs:
        start = i = 0
        while i < len(paragraph) - 1:
            signature = parse_signature(paragraph[i], paragraph[i + 1])
            if signature:
                if paragraph[start:i]:
                    yield paragraph[start:i]
                yield (*signature, paragraph[i].number)
                start = i = i + 2
            else:
                i += 1
        if paragraph[start:]:
            yield paragraph[start:]


def question_subject(question: str) -> list[str]:
    """The X of "What is X?" without a parenthesised abbreviation, as words."""
    match = DEFINITION_QUESTION.match(question)
    if not match:
        return []
    subject = text_words(re.sub(r"\([^)]*\)", " ", match["subject"]), compounds=True)
    return subject if any(w not in OPENING_STOP_WORDS for w in subject) else []


def opening_key(words: list[str]) -> tuple[str, ...] | None:
    """A paragraph's first words up to its second content word ("the mitral
    valve"): two paragraphs with the same key open the same way."""
    content = 0
    for n, word in enumerate(words, start=1):
        content += word not in OPENING_STOP_WORDS
        if content == 2:
            return tuple(words[:n])
    return None


def group_unsigned(paragraphs: list[Paragraph], question: str) -> list[Answer]:
    """Split unsigned paragraphs into answers where a paragraph starts again."""
    openings = [text_words(p[0].text, compounds=True)[:12] for p in paragraphs]
    keys = [opening_key(words) for words in openings]
    repeated = {key for key, count in Counter(keys).items() if key is not None and count > 1}
    subject = question_subject(question)
    answers: list[Answer] = []
    for paragraph, opening, key in zip(paragraphs, openings, keys):
        restarts = key in repeated or (bool(subject) and opening[:len(subject)] == subject)
        if not answers or restarts:
            answers.append(Answer())
        answers[-1].paragraphs.append(paragraph)
    return answers


def split_answers(body: list[Line], question: str) -> list[Answer]:
    unsigned: list[Paragraph] = []
    signed: list[Answer] = []
    for segment in signed_segments(paragraphs_of(body)):
        if isinstance(segment, tuple):
            name, credentials, line = segment
            signed.append(Answer(author=name, credentials=credentials, signature_line=line))
        elif signed:
            signed[-1].paragraphs.append(segment)
        else:
            unsigned.append(segment)
    return group_unsigned(unsigned, question) + signed


# --- related cards --------------------------------------------------------------------------

def is_source_line(lines: list[Line], i: int, title: str) -> bool:
    """A name right after the title that still has the card's summary after it."""
    text = lines[i].text
    has_text_after = i + 1 < len(lines) and not is_link_label(lines[i + 1].text)
    doubled = collapse_repeats(text) != text
    return (has_text_after and collapse_repeats(text) != title
            and (doubled or looks_like_organisation(text)) and not text.endswith(TERMINAL_PUNCTUATION))


def starts_card(lines: list[Line], i: int) -> bool:
    """A line followed by its own repetition is the next card's title."""
    return i + 1 < len(lines) and collapse_repeats(lines[i + 1].text) == collapse_repeats(lines[i].text)


def read_cards(lines: list[Line]) -> list[Card]:
    cards: list[Card] = []
    i = 0
    while i < len(lines):
        if is_link_label(lines[i].text):  # a stray label belongs to no card
            i += 1
            continue
        title = Line(lines[i].number, collapse_repeats(lines[i].text))
        i += 1
        while i < len(lines) and collapse_repeats(lines[i].text) == title.text:
            i += 1
        source = None
        if i < len(lines) and is_source_line(lines, i, title.text):
            source, i = collapse_repeats(lines[i].text), i + 1
        text: list[str] = []
        while i < len(lines) and not is_link_label(lines[i].text) and not starts_card(lines, i):
            text.append(lines[i].text)
            i += 1
        if i < len(lines) and is_link_label(lines[i].text):
            i += 1
        cards.append(Card(title, source, text))
    return cards


# --- the importer ---------------------------------------------------------------------------

def page_slug(path: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:150].strip("-")
    return slug or "page"


def answer_fields(answer: Answer, n: int, page_id: str, question: str) -> dict:
    text = "\n\n".join("\n".join(line.text for line in p) for p in answer.paragraphs)
    return {"id": f"{page_id}-answer-{n}", "kind": "answer", "title": question, "text": text,
            "author": answer.author, "credentials": answer.credentials, "page": page_id}


def card_fields(card: Card, n: int, page_id: str) -> dict:
    return {"id": f"{page_id}-related-{n}", "kind": "teaser", "title": card.title.text,
            "text": "\n".join(card.text) or card.title.text, "source": card.source, "page": page_id}


class QaPageImporter:
    name = "qa-page"
    suffixes = (".txt", ".html", ".htm")

    def read(self, path: Path) -> Iterator[Article | Page | CorpusError]:
        text = read_text(path)
        if path.suffix.lower() in (".html", ".htm"):
            text = html_to_text(text)
        lines = numbered_lines(text)
        if not any(line.text for line in lines):
            raise CorpusError(str(path), 0, "page has no text")
        question, body, card_lines, disclaimer = split_page(lines)
        page_id = page_slug(path)
        answers, cards = split_answers(body, question.text), read_cards(card_lines)
        if not answers and not cards:
            raise CorpusError(str(path), question.number, "found a question but no answers below it")
        disclaimer_text = "\n".join(line.text for line in disclaimer) if disclaimer else None
        yield make_page({"id": page_id, "title": question.text, "text": disclaimer_text},
                        f"{path}:{question.number}")
        yield from self._answers(path, answers, page_id, question.text)
        for n, card in enumerate(cards, start=1):
            yield self._make(card_fields(card, n, page_id), f"{path}:{card.title.number}")

    def _answers(self, path: Path, answers: list[Answer], page_id: str,
                 question: str) -> Iterator[Article | CorpusError]:
        n = 0
        for answer in answers:
            if not answer.paragraphs:
                yield CorpusError(str(path), answer.signature_line,
                                  f"signature of {answer.author!r} has no answer below it; "
                                  "does it close the answer above instead? Split this page by hand")
                continue
            n += 1
            yield self._make(answer_fields(answer, n, page_id, question),
                             f"{path}:{answer.paragraphs[0][0].number}")

    @staticmethod
    def _make(fields: dict, origin: str) -> Article | CorpusError:
        try:
            return make_article(fields, origin)
        except CorpusError as err:
            return err
