"""MedQuAD's XML files: one topic per file, one article per answered question."""
import json
from collections import defaultdict
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from indexer.sources import load_corpus
from tests.conftest import MEDQUAD

# Written in MedQuAD's layout (indentation, padded paragraph breaks, entities);
# the wording is ours: MedQuAD's own text stays outside the repository.
GARD_DOC = """<?xml version="1.0" encoding="UTF-8"?>
<Document id="0000123" source="GARD" url="https://rarediseases.info.nih.gov/gard/0000/example-cardiomyopathy">
<Focus>Example cardiomyopathy</Focus>
<FocusAnnotations>
\t<UMLS>
\t\t<CUIs>
\t\t\t<CUI>C0000000</CUI>
\t\t</CUIs>
\t</UMLS>
\t<Synonyms>
\t\t<Synonym>Cardiomyopathy, example type</Synonym>
\t\t<Synonym>example cardiomyopathy</Synonym>
\t</Synonyms>
</FocusAnnotations>
<QAPairs>
\t<QAPair pid="1">
\t\t\t<Question qid="0000123-1" qtype="information">What is (are) Example cardiomyopathy ?</Question>
\t\t\t<Answer>Example cardiomyopathy is a disease of the heart muscle. It is sometimes called &quot;stiff heart&quot; &amp; can run in families.</Answer>
\t</QAPair>
\t<QAPair pid="2">
\t\t\t<Question qid="0000123-2" qtype="treatment">What are the treatments for Example cardiomyopathy ?</Question>
\t\t\t<Answer>
                </Answer>
\t</QAPair>
</QAPairs>
</Document>
"""

NHLBI_DOC = """<?xml version="1.0" encoding="UTF-8"?>
<Document id="0000042" source="NHLBI" url="http://www.nhlbi.nih.gov/health/health-topics/topics/example">
<Focus>Heart Palpitations</Focus>
<FocusAnnotations>
</FocusAnnotations>
<QAPairs>
\t<QAPair pid="1">
\t\t\t<Question qid="0000042-1" qtype="symptoms">What are the symptoms of Heart Palpitations ?</Question>
\t\t\t<Answer>Palpitations feel like your heart is skipping a beat.
                
Overview
                

                
They can be felt in the chest, throat, or neck.</Answer>
\t</QAPair>
</QAPairs>
</Document>
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, "utf-8")
    return path


def test_each_answered_question_becomes_an_article(tmp_path):
    corpus = load_corpus([write(tmp_path, "0000123.xml", GARD_DOC), write(tmp_path, "0000042.xml", NHLBI_DOC)])
    articles = {a.id: a for a in corpus.articles}
    assert set(articles) == {"GARD-0000123-1", "NHLBI-0000042-1"}
    gard = articles["GARD-0000123-1"]
    assert gard.title == "What is (are) Example cardiomyopathy ?"
    assert gard.text == ('Example cardiomyopathy is a disease of the heart muscle. '
                         'It is sometimes called "stiff heart" & can run in families.')
    assert gard.source == "Genetic and Rare Diseases Information Center (GARD)"
    assert gard.url == "https://rarediseases.info.nih.gov/gard/0000/example-cardiomyopathy"
    assert gard.synonyms == ("Example cardiomyopathy", "Cardiomyopathy, example type")
    assert gard.author is None and gard.kind == "article"
    nhlbi = articles["NHLBI-0000042-1"]
    assert nhlbi.text == ("Palpitations feel like your heart is skipping a beat.\n\nOverview\n\n"
                          "They can be felt in the chest, throat, or neck.")
    assert nhlbi.source == "National Heart, Lung, and Blood Institute (NHLBI)"
    assert nhlbi.synonyms == ("Heart Palpitations",)


def test_an_empty_answer_is_reported_and_the_other_pairs_load(tmp_path):
    path = write(tmp_path, "0000123.xml", GARD_DOC)
    corpus = load_corpus([path])
    assert [a.id for a in corpus.articles] == ["GARD-0000123-1"]
    [error] = corpus.errors
    assert str(error).startswith(f"{path}:20: question '0000123-2' has an empty answer")


@pytest.mark.parametrize("content,line,message", [
    (GARD_DOC.replace("</QAPair>\n\t<QAPair pid=\"2\">", "\n\t<QAPair pid=\"2\">"), 25,
     "not well-formed XML: mismatched tag"),
    ("<Document><Focus>X</Focus>\n<QAPairs>\n<QAPair><Question>Q &bogus; ?</Question>", 3, "not well-formed XML"),
    ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n'
     '<Document source="GARD"><QAPairs><QAPair><Question qid="1-1">Q</Question><Answer>&lol2;</Answer>'
     '</QAPair></QAPairs></Document>', 2, "<!DOCTYPE ...> is not allowed"),
    ('<Document source="GARD">\n<!ENTITY x "y"></Document>', 2, "<!ENTITY ...> is not allowed"),
    ('<?xml version="1.0"?>\n<html><body>hi</body></html>', 2, "expected a MedQuAD <Document>, got <html>"),
    ('<Document id="1" source="GARD">\n<Focus>X</Focus>\n</Document>', 1, "no <QAPairs><QAPair>"),
])
def test_malformed_or_hostile_xml_is_one_clear_error(tmp_path, content, line, message):
    path = write(tmp_path, "bad.xml", content)
    corpus = load_corpus([path])
    assert not corpus.articles
    [error] = corpus.errors
    assert (error.path, error.line) == (str(path), line) and message in error.message, str(error)


def test_pairs_without_a_qid_take_document_id_and_pid(tmp_path):
    doc = ('<Document id="0000007" source="CDC" url="https://www.cdc.gov/heartdisease/">\n<QAPairs>\n'
           '<QAPair pid="3"><Question>What is heart disease ?</Question><Answer>A disease.</Answer></QAPair>\n'
           '</QAPairs></Document>')
    [article] = load_corpus([write(tmp_path, "x.xml", doc)]).articles
    assert article.id == "CDC-0000007-3"
    assert article.source == "CDC"  # an unknown code is kept, never guessed
    assert article.synonyms == ()


def medquad_document(records: list[dict]) -> str:
    """Write JSONL records of one topic back in MedQuAD's XML layout."""
    first = records[0]
    doc_id = first["id"].split("-")[1]
    synonyms = "".join(f"\t\t<Synonym>{escape(s)}</Synonym>\n" for s in first["synonyms"])
    pairs = "".join(
        f'\t<QAPair pid="{r["id"].rsplit("-", 1)[1]}">\n'
        f'\t\t\t<Question qid={quoteattr(r["id"].split("-", 1)[1])} qtype={quoteattr(r["qtype"])}>'
        f'{escape(r["title"])}</Question>\n'
        f'\t\t\t<Answer>{escape(r["text"]).replace(chr(10), chr(10) + " " * 16)}</Answer>\n\t</QAPair>\n'
        for r in records)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Document id="{doc_id}" source={quoteattr(first["source"])} url={quoteattr(first["url"])}>\n'
            f'<Focus>{escape(first["focus"])}</Focus>\n<FocusAnnotations>\n\t<Synonyms>\n{synonyms}'
            f'\t</Synonyms>\n</FocusAnnotations>\n<QAPairs>\n{pairs}</QAPairs>\n</Document>\n')


@pytest.mark.slow
def test_xml_and_the_shared_jsonl_give_the_same_articles(tmp_path):
    """The same topic imported from either format must not differ, or an index
    built from both would hold two versions of one answer."""
    if not MEDQUAD.exists():
        pytest.skip(f"{MEDQUAD} not found: the shared MedQuAD corpus lives outside the repository")
    topics: dict[str, list[dict]] = defaultdict(list)
    for line in MEDQUAD.read_text("utf-8").splitlines():
        record = json.loads(line)
        topics[record["id"].rsplit("-", 1)[0]].append(record)
    for name, records in topics.items():
        write(tmp_path, f"{name}.xml", medquad_document(records))
    from_xml = load_corpus([tmp_path])
    from_jsonl = load_corpus([MEDQUAD])
    assert not from_xml.errors, from_xml.errors[:3]
    strip = lambda a: (a.id, a.title, a.text, a.kind, a.author, a.source, a.url, a.synonyms)  # noqa: E731
    assert sorted(map(strip, from_xml.articles)) == sorted(map(strip, from_jsonl.articles))


def test_invisible_characters_in_a_question_are_refused_at_its_line(tmp_path):
    doc = GARD_DOC.replace("What is (are) Example", "What is (are) \u202eelpmaxE")  # XML cannot hold BEL
    path = tmp_path / "doc.xml"
    path.write_text(doc, "utf-8")
    corpus = load_corpus([path])
    line = doc.split("\n").index(next(x for x in doc.split("\n") if "\u202e" in x)) + 1
    assert any(str(e).startswith(f"{path}:{line}: article 'GARD-0000123-1' field 'title' contains U+202E")
               for e in corpus.errors), corpus.errors
