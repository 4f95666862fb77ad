"""indexer.index.layout: the schema, its column lists and rows read by name."""
from __future__ import annotations

import sqlite3

import pytest

from indexer.index import IndexCorrupt
from indexer.index.layout import (ARTICLE_COLUMNS, METADATA, PASSAGE_COLUMNS, PASSAGE_RECORD_SELECT, SCHEMA, TABLES,
                                  article_from_row, article_row, generation_id, insert_statement, passage_record,
                                  row, schema_problems, select_articles)
from indexer.index.segment import Segment
from indexer.sources.base import make_article
from tests.indexer.index.synthetic import article, synthetic_store


def _database() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript(SCHEMA)
    return db


def test_the_column_lists_are_the_schemas_columns_in_order():
    db = _database()
    assert schema_problems(db) == []
    for table, columns in TABLES.items():
        assert tuple(r["name"] for r in db.execute(f"PRAGMA table_info({table})")) == columns


def test_an_article_round_trips_through_its_named_columns():
    db = _database()
    written = article(3)
    db.execute(insert_statement("articles"), article_row(written, num=7, passages=2))
    (found,) = db.execute(select_articles()).fetchall()
    assert article_from_row(found) == written
    assert found["num"] == 7 and found["passages"] == 2 and found["content_hash"] == written.content_hash()


def test_a_repaired_article_round_trips_with_its_repairs_and_source_text():
    db = _database()
    written = make_article({"id": "r1", "title": "T", "text": "This can lead topalpitations.\n\nEspaol"}, "f:1")
    assert written.repairs and written.original_text is not None
    db.execute(insert_statement("articles"), article_row(written, num=0, passages=1))
    (found,) = db.execute(select_articles()).fetchall()
    read = article_from_row(found)
    assert read == written and read.content_hash() == written.content_hash()
    assert read.source_text() == "This can lead topalpitations.\n\nEspaol"


def test_a_passage_record_reads_every_field_by_name():
    db = _database()
    a = article(1)
    db.execute(insert_statement("articles"), article_row(a, num=0, passages=1))
    db.execute(insert_statement("passages"), row(
        "passages", id=5, article_id=a.id, position=0, text="Blood leaks back.", embed_text="e",
        sentences='["Blood leaks back."]', text_hash="h", text_stems="blood leak back", heading="Outlook"))
    (found,) = db.execute(PASSAGE_RECORD_SELECT).fetchall()
    record = passage_record(found)
    assert (record.id, record.article_id, record.text, record.sentences) == (5, a.id, "Blood leaks back.",
                                                                            ["Blood leaks back."])
    assert (record.article_title, record.article_kind, record.article_url) == (a.title, a.kind, a.url)
    assert (record.author, record.source, record.page_id, record.passage_count) == (a.author, a.source, a.page, 1)
    assert record.text_stems == {"blood", "leak", "back"} and found["article_num"] == 0
    assert record.heading == "Outlook"


def test_a_row_must_name_exactly_the_tables_columns():
    values = dict.fromkeys(PASSAGE_COLUMNS, "x")
    assert row("passages", **values) == values
    with pytest.raises(ValueError, match="missing \\['text_stems'\\]"):
        row("passages", **{k: v for k, v in values.items() if k != "text_stems"})
    with pytest.raises(ValueError, match="unknown \\['stems'\\]"):
        row("passages", **values, stems="x")
    with pytest.raises(ValueError, match="no columns"):
        select_articles(("num", "nonsense"))


def test_a_table_laid_out_differently_is_reported():
    db = _database()
    db.execute("ALTER TABLE articles RENAME COLUMN origin TO source_file")
    (problem,) = schema_problems(db)
    assert "table articles" in problem and "source_file" in problem
    assert len(ARTICLE_COLUMNS) == 16


def test_a_segment_whose_database_has_other_columns_does_not_open(tmp_path):
    store = synthetic_store(tmp_path / "index")
    generation = store.open_current()
    folder = generation.segments[0].path
    generation.close()
    db = sqlite3.connect(folder / METADATA)
    db.execute("ALTER TABLE passages RENAME COLUMN text_stems TO stems")
    db.commit()
    db.close()
    with pytest.raises(IndexCorrupt, match="not laid out as this code reads it.*table passages"):
        Segment(folder)


def test_generation_id_falls_back_to_the_build_time():
    assert generation_id({"generation_id": "abc", "built_at": "t"}) == "abc"
    assert generation_id({"built_at": "2026-01-01T00:00:00Z"}) == "built-2026-01-01T00:00:00Z"
