"""HeartSearch indexer: corpus files → passages → embeddings → a published
FAISS + SQLite index generation. Run `python -m indexer --help`."""
