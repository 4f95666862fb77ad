"""The shipped corpus and the Markdown front-matter format."""
from pathlib import Path

import pytest

from indexer.sources import load_corpus


def by_id(corpus):
    return {a.id: a for a in corpus.articles}


def test_seed_page_becomes_six_answers_and_four_teasers(seed_corpus):
    kinds = sorted(a.kind for a in seed_corpus.articles)
    assert kinds == ["answer"] * 6 + ["teaser"] * 4
    answers = [a for a in seed_corpus.articles if a.kind == "answer"]
    assert {a.title for a in answers} == {"What is mitral regurgitation (MR)?"}


def test_each_answer_keeps_its_own_attribution(seed_corpus):
    articles = by_id(seed_corpus)
    adams = articles["mr-answer-5"]
    assert adams.author == "David H. Adams"
    assert adams.credentials == "MD, Cardiothoracic Surgeon"
    assert adams.text.startswith("Also known as mitral incompetence")
    severance = articles["mr-answer-6"]
    assert severance.author == "Douglas E. Severance"
    assert severance.credentials == "MD, Family Practitioner"
    assert severance.text.startswith("Mitral regurgitation or mitral valve regurgitation")
    # Answers whose signature did not survive on the page are honestly unattributed.
    for article_id in ("mr-answer-1", "mr-answer-2", "mr-answer-3", "mr-answer-4"):
        assert articles[article_id].author is None
        assert articles[article_id].credentials is None


def test_no_signature_text_leaks_into_answers(seed_corpus):
    for article in seed_corpus.articles:
        assert "Dr. " not in article.text
        assert "Cardiothoracic Surgeon" not in article.text


def test_teasers_are_marked_with_their_source(seed_corpus):
    articles = by_id(seed_corpus)
    dialysis = articles["mr-related-dialysis-risk"]
    assert dialysis.kind == "teaser"
    assert dialysis.source == "National Kidney Foundation"
    assert dialysis.author is None  # an organisation is a source, not a person


def test_disclaimer_is_page_metadata_not_an_article(seed_corpus):
    assert len(seed_corpus.pages) == 1
    page = seed_corpus.pages[0]
    assert page.disclaimer.startswith("Important: This content reflects information")
    assert not any("should not be used for medical advice" in a.text for a in seed_corpus.articles)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    return path


GOOD = "---\nid: a1\ntitle: T\nauthor: Jane Roe\ncredentials: RN\n---\nSome text here.\n"


@pytest.mark.parametrize("name,content,expected", [
    ("no-front.md", "Just text\n", "no-front.md:1: expected a front-matter block"),
    ("unclosed.md", "---\nid: x\ntitle: T\n", "unclosed.md:3: front-matter block is not closed"),
    ("no-title.md", "---\nid: x\n---\ntext\n", "no-title.md:1: article 'x' has no 'title'"),
    ("no-text.md", "---\nid: x\ntitle: T\n---\n\n", "no-text.md:5: article 'x' has no text"),
    ("no-id.md", "---\ntitle: T\n---\ntext\n", "no-id.md:1: missing 'id'"),
    ("bad-key.md", "---\nid: x\nauthr: Bob\n---\ntext\n", "bad-key.md:3: unknown field 'authr'"),
    ("bad-line.md", "---\nid: x\njust words\n---\ntext\n", "bad-line.md:3: expected 'key: value'"),
    ("bad-kind.md", "---\nid: x\ntitle: T\nkind: blog\n---\ntext\n", "bad-kind.md:4: article 'x' has unknown kind 'blog'"),
    ("bad-url.md", "---\nid: x\ntitle: T\nurl: javascript:alert(1)\n---\ntext\n", "bad-url.md:4: article 'x' url"),
    # Each field's error points at the field's own line, not at line 1.
    ("creds.md", "---\nid: x\ntitle: T\n\ncredentials: MD\n---\ntext\n",
     "creds.md:5: article 'x' has credentials but no author"),
    ("bad-id.md", "---\n# comment\nid: ../x\ntitle: T\n---\ntext\n", "bad-id.md:3: bad id"),
    ("long.md", "---\nid: x\ntitle: T\nsource: " + "S" * 501 + "\n---\ntext\n", "long.md:4: article 'x' field 'source'"),
    ("rlo.md", "---\nid: x\ntitle: T\nauthor: Jane \u202eeoR\n---\ntext\n",
     "rlo.md:4: article 'x' field 'author' contains U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("bel.md", "---\nid: x\ntitle: T\nsource: Heart\x07 Org\n---\ntext\n", "bel.md:4: article 'x' field 'source' contains U+0007"),
    ("page-url.md", "---\nid: p\nkind: page\ntitle: T\nurl: ftp://x\n---\nDisclaimer.\n", "page-url.md:5: page 'p' url"),
    ("empty.md", "", "empty.md:0: file is empty"),
    ("latin1.md", "---\nid: x\ntitle: Caf\xe9\n---\ntext\n".encode("latin-1"), "latin1.md:3: not valid UTF-8"),
    ("notes.docx", "hello", "unknown file type '.docx'"),
])
def test_malformed_files_are_reported_with_path_and_line(tmp_path, name, content, expected):
    write(tmp_path, "good.md", GOOD)
    write(tmp_path, name, content)
    corpus = load_corpus([tmp_path])
    messages = [str(e) for e in corpus.errors]
    assert len(messages) == 1 and expected in messages[0], messages
    assert [a.id for a in corpus.articles] == ["a1"]  # the rest of the batch still loads


def test_duplicate_ids_are_reported(tmp_path):
    write(tmp_path, "one.md", GOOD)
    write(tmp_path, "two.md", GOOD)
    corpus = load_corpus([tmp_path])
    assert corpus.articles == []  # neither wins: the indexed version is kept instead
    messages = sorted(str(e) for e in corpus.errors)
    assert messages[0].startswith(f"{tmp_path / 'one.md'}:1: duplicate id 'a1', also defined at "
                                  f"{tmp_path / 'two.md'}:1"), messages
    assert messages[1].startswith(f"{tmp_path / 'two.md'}:1: duplicate id 'a1'"), messages
    assert len(messages) == 2


def test_the_same_file_named_twice_is_not_a_duplicate(tmp_path):
    write(tmp_path, "one.md", GOOD)
    corpus = load_corpus([tmp_path, tmp_path / "one.md", tmp_path / ".." / tmp_path.name])
    assert [a.id for a in corpus.articles] == ["a1"] and corpus.errors == []


def test_kind_is_case_insensitive_and_page_is_named_among_the_kinds(tmp_path):
    write(tmp_path, "a.md", "---\nid: a\nkind: Answer\ntitle: T\n---\ntext\n")
    write(tmp_path, "p.md", "---\nid: p\nkind: PAGE\ntitle: T\n---\nImportant: ...\n")
    write(tmp_path, "z.md", "---\nid: z\nkind: pgae\ntitle: T\n---\ntext\n")
    corpus = load_corpus([tmp_path])
    assert [(a.id, a.kind) for a in corpus.articles] == [("a", "answer")]
    assert [p.id for p in corpus.pages] == ["p"]
    assert len(corpus.errors) == 1 and "or page for a page file" in str(corpus.errors[0])


def test_empty_author_means_unattributed_and_credentials_need_an_author(tmp_path):
    write(tmp_path, "a.md", "---\nid: a\ntitle: T\nauthor:\n---\ntext\n")
    write(tmp_path, "b.md", "---\nid: b\ntitle: T\ncredentials: MD\n---\ntext\n")
    corpus = load_corpus([tmp_path])
    assert corpus.articles[0].author is None
    assert "credentials but no author" in str(corpus.errors[0])


def test_readme_is_not_an_article(tmp_path):
    write(tmp_path, "README.md", "# About this folder\n")
    write(tmp_path, "a.md", GOOD)
    corpus = load_corpus([tmp_path])
    assert not corpus.errors and len(corpus.articles) == 1


def test_invisible_characters_are_stripped_from_the_text(tmp_path):
    write(tmp_path, "a.md", "---\nid: a\ntitle: T\n---\nA leaky\u202e valve\x07 leaks\u2066.\n\nSecond\tparagraph.\n")
    corpus = load_corpus([tmp_path])
    assert not corpus.errors
    assert corpus.articles[0].text == "A leaky valve leaks.\n\nSecond\tparagraph."


def test_folder_symlinks_are_skipped_and_dangling_file_symlinks_reported(tmp_path):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    write(corpus_dir, "one.md", GOOD)
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "system.md", GOOD.replace("a1", "system"))
    (corpus_dir / "docs-link").symlink_to(outside, target_is_directory=True)
    (corpus_dir / "loop").symlink_to(corpus_dir, target_is_directory=True)
    (corpus_dir / "gone.md").symlink_to(tmp_path / "moved" / "gone.md")
    corpus = load_corpus([corpus_dir])
    assert [a.id for a in corpus.articles] == ["a1"]
    assert [str(e) for e in corpus.errors] == [
        f"{corpus_dir / 'gone.md'}:0: cannot read this file: it is a symbolic link to "
        f"{tmp_path / 'moved' / 'gone.md'}, which does not exist"]
    assert sorted(n.partition(":")[0] for n in corpus.skipped) == [str(corpus_dir / "docs-link"),
                                                                     str(corpus_dir / "loop")]
    assert all("symbolic link to a folder" in n for n in corpus.skipped)
    # A folder named on the command line is read even through a link.
    assert [a.id for a in load_corpus([corpus_dir / "docs-link"]).articles] == ["system"]
