"""JSON Lines articles, including the shared MedQuAD export read as it is."""
import json
from pathlib import Path

import pytest

from indexer.sources import load_corpus
from indexer.sources.nih_sources import ORGANISATIONS, organisation_name, topic_synonyms
from tests.conftest import MEDQUAD


@pytest.fixture
def medquad() -> Path:
    if not MEDQUAD.exists():
        pytest.skip(f"{MEDQUAD} not found: the shared MedQuAD corpus lives outside the repository")
    return MEDQUAD


def jsonl(tmp_path: Path, name: str, *lines: object) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", "utf-8")
    return path


@pytest.mark.slow
def test_the_shared_medquad_export_loads_whole(medquad):
    corpus = load_corpus([medquad])
    assert not corpus.errors, corpus.errors[:3]
    assert len(corpus.articles) == 954
    assert {a.source for a in corpus.articles} <= set(ORGANISATIONS.values())  # every code mapped
    assert all(a.author is None and a.credentials is None for a in corpus.articles)  # nobody invented
    assert {a.kind for a in corpus.articles} == {"article"}
    assert all(a.url and a.url.startswith("http") for a in corpus.articles)


@pytest.mark.slow
def test_medquad_focus_comes_first_among_synonyms(medquad):
    raw = {r["id"]: r for r in map(json.loads, medquad.read_text("utf-8").splitlines())}
    corpus = load_corpus([medquad])
    for article in corpus.articles:
        record = raw[article.id]
        assert article.synonyms[0] == record["focus"]
        assert {s.casefold() for s in record["synonyms"]} <= {s.casefold() for s in article.synonyms}
        assert article.source_text() == record["text"].strip() and article.title == record["title"].strip()
    gard = next(a for a in corpus.articles if a.id == "GARD-0000006-1")
    assert gard.synonyms == ("Abdominal aortic aneurysm", "Aneurysm, abdominal aortic")
    assert gard.source == "Genetic and Rare Diseases Information Center (GARD)"


def test_project_fields_and_both_synonym_spellings(tmp_path):
    path = jsonl(
        tmp_path, "a.jsonl",
        {"id": "a1", "kind": "answer", "title": "What is angina?", "text": "Chest pain.",
         "author": "Jane Roe", "credentials": "MD, Cardiologist", "source": "NHLBI",
         "url": "https://example.org/angina", "page": "p1", "synonyms": "angina pectoris; chest pain"},
        "",  # blank lines are skipped
        {"id": "a2", "title": "T", "text": "x", "synonyms": ["Angina", "angina", " stable angina "],
         "focus": "Angina", "qtype": "information", "source": "National Kidney Foundation"},
    )
    corpus = load_corpus([path])
    assert not corpus.errors
    a1, a2 = corpus.articles
    assert (a1.author, a1.credentials, a1.page, a1.kind) == ("Jane Roe", "MD, Cardiologist", "p1", "answer")
    assert a1.source == "National Heart, Lung, and Blood Institute (NHLBI)"
    assert a1.synonyms == ("angina pectoris", "chest pain")
    assert a2.synonyms == ("Angina", "stable angina")  # focus first, each name once
    assert a2.source == "National Kidney Foundation"  # not a code: kept as given
    assert a1.origin.endswith("a.jsonl:1") and a2.origin.endswith("a.jsonl:3")


def test_a_page_record_becomes_a_page(tmp_path):
    path = jsonl(tmp_path, "p.ndjson", {"id": "p1", "kind": "page", "title": "Q?", "text": "Important: ..."})
    corpus = load_corpus([path])
    assert not corpus.errors and not corpus.articles
    assert corpus.pages[0].disclaimer == "Important: ..."


def test_bad_lines_are_reported_with_their_line_and_the_rest_loads(tmp_path):
    good = {"id": "ok-1", "title": "T", "text": "fine"}
    path = jsonl(
        tmp_path, "mixed.jsonl",
        good,                                              # 1
        '{"id": "x", "title": "T", "text": ',              # 2 invalid JSON
        {"id": "no-text", "title": "T", "text": "  "},     # 3
        {"id": "ok-1", "title": "T", "text": "again"},     # 4 duplicate id
        '["not", "an", "object"]',                         # 5
        {"id": "x y", "title": "T", "text": "t"},          # 6 bad id
        {"id": "k", "title": "T", "text": "t", "autor": "Bob"},  # 7 misspelt field
        {"id": "n", "title": 42, "text": "t"},             # 8 wrong type
        '{"id": "d", "title": "T", "title": "U", "text": "t"}',  # 9 key twice
        {"id": "s", "title": "T", "text": "t", "synonyms": ["a", 1]},  # 10
        {"id": "ok-2", "title": "T", "text": "fine"},      # 11
    )
    corpus = load_corpus([path])
    assert [a.id for a in corpus.articles] == ["ok-2"]  # a duplicated id: neither definition is used
    messages = [str(e) for e in corpus.errors]
    expected = [
        f":1: duplicate id 'ok-1', also defined at {path}:4", ":2: not valid JSON:", ":3: article 'no-text' has no text", f":4: duplicate id 'ok-1', also defined at {path}:1",
        ":5: expected a JSON object, got an array", ":6: bad id 'x y'", ":7: unknown field 'autor'",
        ":8: field 'title' must be a string, got a number", ":9: field 'title' given twice",
        ":10: field 'synonyms' must hold only strings",
    ]
    assert len(messages) == len(expected), messages
    for message, part in zip(sorted(messages, key=lambda m: int(m.split(":")[1])), expected):
        assert message.startswith(f"{path}:") and part in message, (message, part)


def test_file_level_problems_are_one_error(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", "utf-8")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"id": "a", "title": "Caf\xe9", "text": "t"}\n'.encode("latin-1"))
    corpus = load_corpus([empty, latin])
    assert [e.message for e in corpus.errors][0] == "file is empty"
    assert "not valid UTF-8" in corpus.errors[1].message and corpus.errors[1].line == 1


def test_a_line_separator_inside_a_string_does_not_split_the_record(tmp_path):
    path = tmp_path / "sep.jsonl"
    path.write_text('{"id": "a", "title": "T", "text": "one\u2028two"}\n{"id": "b", "title": "T", "text": "t"}\n',
                    "utf-8")
    corpus = load_corpus([path])
    assert not corpus.errors and [a.origin[-2:] for a in corpus.articles] == [":1", ":2"]


def test_organisation_names_and_topic_synonyms():
    assert organisation_name("GARD") == "Genetic and Rare Diseases Information Center (GARD)"
    assert organisation_name("nhlbi") == "National Heart, Lung, and Blood Institute (NHLBI)"
    assert organisation_name("CDC") == "CDC"  # unknown codes are kept, not guessed
    assert organisation_name(None) is None
    assert topic_synonyms("Heart  Attack", ["heart attack", "Myocardial infarction", ""]) == \
        ("Heart Attack", "Myocardial infarction")


def test_load_corpus_picks_the_importer_by_suffix_and_fmt_forces_one(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.md").write_text("---\nid: md-1\ntitle: T\n---\nMarkdown text.\n", "utf-8")
    jsonl(folder, "b.jsonl", {"id": "jl-1", "title": "T", "text": "JSONL text."})
    (folder / "c.xml").write_text(
        '<Document id="0000001" source="NHLBI" url="https://www.nhlbi.nih.gov/x">\n<QAPairs><QAPair pid="1">'
        '<Question qid="0000001-1">What is X ?</Question><Answer>XML text.</Answer></QAPair></QAPairs></Document>',
        "utf-8")
    (folder / "d.txt").write_text("What is X?\n\nPage text.\n", "utf-8")
    corpus = load_corpus([folder])
    assert not corpus.errors, corpus.errors
    assert [a.id for a in corpus.articles] == ["md-1", "jl-1", "NHLBI-0000001-1", "d-answer-1"]
    assert [p.id for p in corpus.pages] == ["d"]

    export = jsonl(tmp_path, "export.txt", {"id": "forced", "title": "T", "text": "Read as JSONL."})
    forced = load_corpus([export], fmt="jsonl")
    assert not forced.errors and [a.id for a in forced.articles] == ["forced"]
    unknown = load_corpus([export], fmt="csv")
    assert "unknown format 'csv' (known: jsonl, markdown, medquad-xml, qa-page)" in str(unknown.errors[0])


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                                  "\u2066", "\u2067", "\u2068", "\u2069", "\u009b",
                                  # zero-width and format characters, and lone surrogates ("\\ud800" in JSON)
                                  "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u061c", "\u2060",
                                  "\u2064", "\ufeff", "\ud800", "\udfff"])
@pytest.mark.parametrize("field", ["title", "author", "credentials", "source"])
def test_invisible_characters_in_attribution_are_refused_at_their_line(tmp_path, field, char):
    """An override can make a passage seem signed by someone else."""
    record = {"id": "x", "title": "Valve", "text": "About valves.", "author": "Jane Roe", "credentials": "MD",
              field: f"Jane{char} Roe"}
    path = jsonl(tmp_path, "a.jsonl", {"id": "good", "title": "T", "text": "Fine."}, record)
    corpus = load_corpus([path])
    assert [a.id for a in corpus.articles] == ["good"]
    assert len(corpus.errors) == 1
    message = str(corpus.errors[0])
    assert message.startswith(f"{path}:2: article 'x' field {field!r} contains U+{ord(char):04X}"), message


def test_invisible_characters_are_stripped_from_text_and_synonyms(tmp_path):
    path = jsonl(tmp_path, "a.jsonl", {"id": "x", "title": "Valve", "synonyms": ["mitral\u202e valve", "\u0007"],
                                       "text": "A\u0000 leaky\u202e valve\u2069 leaks.\nTabs\tstay."})
    corpus = load_corpus([path])
    assert not corpus.errors
    article = corpus.articles[0]
    assert article.text == "A leaky valve leaks.\nTabs\tstay."
    assert article.synonyms == ("mitral valve",)


def test_lone_surrogates_and_format_characters_are_stripped_from_text_and_refused_in_pages(tmp_path):
    path = jsonl(tmp_path, "a.jsonl",
                 {"id": "x", "title": "Valve", "synonyms": ["mitral\ud800 valve"],
                  "text": "A\udc00 leaky\u200b valve\ufeff leaks\u2060."},
                 {"id": "p", "kind": "page", "title": "Page\ud800"},
                 {"id": "q", "kind": "Page", "title": "Page", "url": "https://e.org/\u200b"})
    corpus = load_corpus([path])
    article = corpus.articles[0]
    assert article.text == "A leaky valve leaks." and article.synonyms == ("mitral valve",)
    article.content_hash()  # encodable: a lone surrogate would raise UnicodeEncodeError here
    messages = sorted(str(e) for e in corpus.errors)
    assert corpus.pages == [] and len(messages) == 2, messages
    assert messages[0].startswith(f"{path}:2: page 'p' field 'title' contains U+D800, a lone surrogate")
    assert messages[1].startswith(f"{path}:3: page 'q' field 'url' contains U+200B")
