"""`python -m indexer.repair CORPUS...`: make the frozen lexicon the
glued-word rule reads (indexer.repair.lexicon) from the sources' own text."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.repair.lexicon import LEXICON_PATH, Lexicon, build_lexicon, write_lexicon
from indexer.sources import load_corpus


def corpus_texts(paths: list[Path]) -> list[str]:
    """The sources' own text of every article under `paths`, in id order."""
    corpus = load_corpus(paths)
    return [a.source_text() for a in sorted(corpus.articles, key=lambda a: a.id)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.repair", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="corpus files or folders")
    parser.add_argument("--out", type=Path, default=LEXICON_PATH)
    args = parser.parse_args(argv)
    from indexer.embedding.registry import DEFAULT_MODEL, model_spec
    if not args.out.exists():  # the import repairs text with the lexicon; the sources' own text is read back
        write_lexicon(Lexicon(frozenset(), {}, {}), args.out)
    lexicon = build_lexicon(corpus_texts(args.paths), model_spec(DEFAULT_MODEL).read_vocabulary())
    write_lexicon(lexicon, args.out)
    print(f"{args.out}: {len(lexicon.common)} common words, {len(lexicon.pairs)} pairs, "
          f"{len(lexicon.seen)} splittable words", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
