"""MedQuAD's XML files (github.com/abachaa/MedQuAD), one topic per file:

    <Document id="0000006" source="GARD" url="https://...">
      <Focus>Abdominal aortic aneurysm</Focus>
      <FocusAnnotations>... <Synonyms><Synonym>...</Synonym></Synonyms> ...</FocusAnnotations>
      <QAPairs>
        <QAPair pid="1">
          <Question qid="0000006-1" qtype="information">What is (are) ... ?</Question>
          <Answer>...</Answer>
        </QAPair> ...

Each question with an answer becomes one Article, made exactly as in
shared/corpora/medquad-heart.jsonl (id `<source>-<qid>`, per-line whitespace
stripped, runs of blank lines collapsed), so importing a topic from XML or
from that JSONL gives the same article. MedQuAD removed some answers for
copyright reasons; such an empty pair is reported and the rest still load.

Safety: a document type declaration can define entities that expand to
gigabytes ("billion laughs") or read local files, and MedQuAD files never
have one, so `<!DOCTYPE`/`<!ENTITY` is refused outright rather than parsed
(this avoids a dependency on defusedxml). Parsing goes through expat directly
only to learn each element's line number for error messages; the tree built
is an ordinary xml.etree one.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from xml.parsers import expat

from indexer.models import Article, Page
from indexer.sources.base import CorpusError, make_article, read_text
from indexer.sources.nih_sources import organisation_name, topic_synonyms

DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Topic:
    """What a Document says about all of its question-answer pairs."""

    doc_id: str
    code: str  # the source code as given, used in ids ("GARD")
    url: str | None
    synonyms: tuple[str, ...]


def refuse_declarations(text: str, path: str) -> None:
    match = DECLARATION.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise CorpusError(path, line, f"<!{match.group(1).upper()} ...> is not allowed: declarations can "
                                      "define entities that expand without limit (MedQuAD files have none)")


def parse_with_lines(text: str, path: str) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse XML into an ElementTree, noting the line each element starts on."""
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(text, True)  # a str is read as UTF-8 whatever the declaration says
    except expat.ExpatError as err:
        raise CorpusError(path, err.lineno, f"not well-formed XML: {expat.ErrorString(err.code)} "
                                            f"(column {err.offset + 1})")
    return builder.close(), lines


def clean_text(raw: str) -> str:
    """Strip each line and keep at most one blank line between paragraphs:
    the XML indents answers and pads paragraph breaks with spaces."""
    kept: list[str] = []
    for line in raw.split("\n"):
        line = line.strip()
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def one_line(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def read_topic(root: ET.Element) -> Topic:
    names = [one_line(s) for s in root.iterfind(".//Synonyms/Synonym")]
    return Topic(
        doc_id=(root.get("id") or "").strip(),
        code=(root.get("source") or "").strip(),
        url=(root.get("url") or "").strip() or None,
        synonyms=topic_synonyms(one_line(root.find("Focus")), names),
    )


def pair_to_article(pair: ET.Element, topic: Topic, origin: str,
                    lines: dict[ET.Element, int] | None = None) -> Article:
    question = pair.find("Question")
    if question is None:
        raise CorpusError.at(origin, "<QAPair> has no <Question>")
    qid = (question.get("qid") or "").strip()
    if not qid and topic.doc_id and pair.get("pid"):
        qid = f"{topic.doc_id}-{pair.get('pid').strip()}"
    if not qid:
        raise CorpusError.at(origin, "<Question> has no qid (and the pair no pid to make one from)")
    answer = pair.find("Answer")
    text = clean_text("".join(answer.itertext())) if answer is not None else ""
    if not text:
        raise CorpusError.at(origin, f"question {qid!r} has an empty answer; skipped")
    return make_article({
        "id": f"{topic.code}-{qid}" if topic.code else qid,
        "title": one_line(question),
        "text": text,
        "kind": "article",
        "source": organisation_name(topic.code),
        "url": topic.url,
        "synonyms": topic.synonyms,
    }, origin, {"title": (lines or {}).get(question), "text": (lines or {}).get(answer)})


class MedquadXmlImporter:
    name = "medquad-xml"
    suffixes = (".xml",)

    def read(self, path: Path) -> Iterator[Article | Page | CorpusError]:
        text = read_text(path)
        refuse_declarations(text, str(path))
        root, lines = parse_with_lines(text, str(path))
        if root.tag != "Document":
            raise CorpusError(str(path), lines[root], f"expected a MedQuAD <Document>, got <{root.tag}>")
        pairs = root.findall("QAPairs/QAPair")
        if not pairs:
            raise CorpusError(str(path), lines[root], "no <QAPairs><QAPair> in this document")
        topic = read_topic(root)
        for pair in pairs:
            try:
                yield pair_to_article(pair, topic, f"{path}:{lines[pair]}", lines)
            except CorpusError as err:
                yield err
