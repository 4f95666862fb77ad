"""The indexer's commands. Run `python -m indexer --help`.

Only arguments and output live here: what the next generation holds is
decided in indexer.next_set, what is embedded, kept and merged in
indexer.build. Measuring ranking quality is the searcher's business
(`python -m search_app.evaluation`): the indexer never imports search_app."""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from indexer.settings import DEFAULT_CORPUS_DIR, index_dir_from_env
from indexer.embedding import BUILD_MODEL, MODELS  # names only: the model loads when needed
from indexer.build import editing, embedder_for, model_for, publish
from indexer.next_set import addition, removal, replacement, too_many_removals, unusable_sources
from indexer.index import IndexError_, IndexMissing, IndexStore
from indexer.insights.command import add_insights_parser, cmd_insights

EXIT_OK, EXIT_INPUT_ERRORS, EXIT_USAGE, EXIT_INDEX = 0, 1, 2, 3
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for any tool whose reader went away
EVAL_MOVED = ("python -m indexer: `eval` moved to `python -m search_app.evaluation` (same options: --index-dir, "
              "--queries, --modes, --out), or `make eval`; the indexer no longer imports the searcher it measures")

DESCRIPTION = """\
Build and maintain the HeartSearch index.

The index is a folder of generations; readers always see one complete
generation, and every command that changes articles writes a new one beside
it and switches with one atomic rename. Only passages whose text changed are
embedded again. One writer at a time: a second waits (--wait) or fails.
"""

EPILOG = """\
exit status:
  0  success
  1  some input files were malformed (reported as path:line: message);
     the valid articles were still published unless --strict was given
  2  bad command-line usage; or build/sync refused and published nothing: a
     PATH is missing, unreadable or holds no article file, no article could be
     read, or it would remove more than half of the indexed articles (say so
     with --allow-removals)
  3  the index is missing, damaged, or locked by another writer, or the
     --dask cluster could not be reached or could not finish, or the chosen
     embedding model could not be loaded (nothing published)
  141 the output pipe was closed early (e.g. `status | head -3`): stopped
     quietly, as other tools do

environment:
  HEARTSEARCH_INDEX_DIR      index folder (default: data/index in the project)
  HEARTSEARCH_MODEL          embedding model of build/add/sync when --model is not given
  HEARTSEARCH_MODEL_THREADS  cores the embedding of a build uses (default: all)

examples:
  python -m indexer build corpus/
  python -m indexer add new-article.md
  python -m indexer remove mr-answer-3
  python -m indexer status
  python -m indexer verify
  python -m indexer build corpus/ --dask local:2         # embed on 2 local worker processes
  python -m indexer sync corpus/ --dask tcp://10.0.0.5:8786  # embed on a Dask cluster (docs/scaling.md)
"""


def _path(value: str) -> Path:
    """A PATH or --index-dir. Path("") is the current folder, so an unset
    variable (`build "$CORPUS"`) would publish whatever lies there (templates,
    requirements.txt) or use it as the index: an empty argument is refused."""
    if not value:
        raise argparse.ArgumentTypeError("empty path (an unset shell variable?); name a file or folder, "
                                         "e.g. . for the current folder")
    return Path(value)


def _format(value: str) -> str:
    """--format: checked before anything is read, not reported once per file."""
    from indexer.sources import IMPORTERS
    if value not in IMPORTERS:
        raise argparse.ArgumentTypeError(f"unknown format {value!r} (known: {', '.join(sorted(IMPORTERS))})")
    return value


def _writer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=_wait_seconds, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for another writer to finish (default: fail at once)")


def _input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true",
                        help="publish nothing if any input file is malformed")
    parser.add_argument("--format", default=None, type=_format,
                        help="read every file with this importer instead of choosing by file type")
    parser.add_argument("--dask", default=None, metavar="ADDRESS|local:N", type=_dask_target,
                        help="embed on a Dask cluster: a scheduler ADDRESS (tcp://host:8786), or local:N "
                             "to start N single-threaded worker processes on 127.0.0.1 for this run; "
                             "this process still diffs, caches and publishes")
    parser.add_argument("--model", default=None, choices=MODELS,
                        help="embedding model (default: $HEARTSEARCH_MODEL, else the live index's model, "
                             f"else {BUILD_MODEL}); another model than the live index's re-embeds everything")
    _writer_options(parser)


def _wait_seconds(value: str) -> float:
    """--wait: a finite number of seconds, 0 or more. float() also takes
    "nan" and "inf", and either would make a writer wait for ever."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give a finite number of seconds, 0 or more")
    return seconds


def _replace_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-removals", action="store_true",
                        help="remove more than half of the indexed articles if the PATHs say so "
                             "(without it such a build is refused: usually a wrong or empty PATH)")


def _dask_target(value: str) -> str:
    from indexer.distributed import parse_target  # imports no Dask
    try:
        return parse_target(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="make the index hold exactly the articles under PATHs",
                       description="Make the index hold exactly the articles found under PATH "
                                   "(default: corpus/). Articles no longer there are removed.")
    p.add_argument("paths", nargs="*", type=_path, metavar="PATH")
    p.add_argument("--if-missing", action="store_true", help="do nothing if an index already exists")
    p.add_argument("--force", action="store_true", help="publish a new generation even if nothing changed")
    _replace_options(p)
    _input_options(p)

    p = sub.add_parser("add", help="add or update the articles in PATHs (folders are walked); "
                                   "nothing is removed (that is remove or sync)")
    p.add_argument("paths", nargs="+", type=_path, metavar="PATH")
    _input_options(p)

    p = sub.add_parser("sync", help="make the index match a folder: add, update and remove")
    p.add_argument("paths", nargs=1, type=_path, metavar="DIR")
    _replace_options(p)
    _input_options(p)

    p = sub.add_parser("remove", help="remove articles (or page files' pages) by id")
    p.add_argument("ids", nargs="+", metavar="ID")
    _writer_options(p)

    sub.add_parser("status", help="what is indexed: counts, model, last publish, sources")
    sub.add_parser("verify", help="check that the index files agree; exit 3 if not")
    p = sub.add_parser("rollback", help="make the previous generation live again")
    _writer_options(p)
    add_insights_parser(sub)

    for p in sub.choices.values():  # every command, last in its options
        p.add_argument("--index-dir", type=_path, default=None,
                       help="index folder (default: $HEARTSEARCH_INDEX_DIR or data/index)")
    return parser


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["eval"]:  # moved, not gone silently: say where
        print(EVAL_MOVED, file=sys.stderr)
        return EXIT_USAGE
    args = build_parser().parse_args(argv)
    if sys.stdout is None:  # started with stdout closed (`status >&-`): Python gives None
        return _no_stdout()
    store = IndexStore(args.index_dir or index_dir_from_env())
    try:
        status = COMMANDS[args.command](args, store)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        return _output_closed()
    except IndexError_ as err:  # IndexBusy included
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INDEX
    except KeyboardInterrupt:
        print("interrupted: the live index is unchanged", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"error: {err.strerror or err} ({err.filename or store.root}); "
              f"the live index is unchanged", file=sys.stderr)
        return EXIT_INDEX


def _no_stdout() -> int:
    """stdout was closed before we started: refuse before doing anything,
    with one line on stderr (if there is one), as other Unix tools do."""
    if sys.stderr is not None:
        print("python -m indexer: standard output is closed; nothing done "
              "(to discard the output, send it to /dev/null)", file=sys.stderr)
    return EXIT_USAGE


def _output_closed() -> int:
    """Whoever read our output has gone (`status | head -3`): stop quietly,
    as other Unix tools do. stdout is pointed at /dev/null so that Python's
    final flush cannot complain about the same pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (stdout replaced)
        pass
    return EXIT_PIPE_CLOSED


# ------------------------------------------------------------------ commands

def _load(args) -> tuple:
    from indexer.sources import load_corpus
    corpus = load_corpus(args.paths, fmt=args.format)
    for err in corpus.errors:
        print(f"{err}", file=sys.stderr)
    for note in corpus.skipped:
        print(note, file=sys.stderr)
    return corpus


def _publish(args, store: IndexStore, live, change, force: bool = False) -> None:
    """Publish `change` to the live generation the command opened (passed
    along, not opened again) and print the report."""
    from indexer.embedding import ModelUnavailable
    try:
        model = model_for(getattr(args, "model", None), live)
    except ValueError as err:  # a bad $HEARTSEARCH_MODEL
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    try:
        with embedder_for(model, getattr(args, "dask", None)) as embedder:
            report = publish(store, live, change, embedder, force=force)
    except ModelUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(EXIT_INDEX) from None
    print(report.summary())


def _strict_refusal(args, corpus) -> bool:
    if corpus.errors and args.strict:
        print(f"--strict: {len(corpus.errors)} problem(s); nothing published", file=sys.stderr)
        return True
    return False


def _replace_set(args, store: IndexStore) -> int:
    """build and sync: the index becomes what the files say (indexer.next_set)."""
    corpus = _load(args)
    problem = unusable_sources(args.paths, corpus)
    if problem:
        print(f"error: {problem}; nothing published", file=sys.stderr)
        return EXIT_USAGE
    if _strict_refusal(args, corpus):
        return EXIT_INPUT_ERRORS
    with editing(store, args.wait, tolerate_damage=True) as (live, damage):
        if damage:
            print(f"warning: {damage}", file=sys.stderr)
        change = replacement(corpus, live)
        if change.kept:
            print(f"kept {len(change.kept)} indexed article(s) from files that could not be read", file=sys.stderr)
        too_many = None if args.allow_removals else too_many_removals(change, live, args.paths)
        if too_many:
            print(f"error: {too_many}", file=sys.stderr)
            return EXIT_USAGE
        _publish(args, store, live, change, force=getattr(args, "force", False))
    return EXIT_INPUT_ERRORS if corpus.errors else EXIT_OK


def cmd_build(args, store: IndexStore) -> int:
    if not args.paths:
        args.paths = [DEFAULT_CORPUS_DIR]
    if args.if_missing and store.current_name():
        print(f"index already present at {store.root} ({store.current_name()}); nothing to do")
        return EXIT_OK
    return _replace_set(args, store)


def cmd_sync(args, store: IndexStore) -> int:
    if not args.paths[0].is_dir():
        what = "is not a folder" if args.paths[0].exists() else "no such folder"
        print(f"error: {args.paths[0]}: {what}; nothing published", file=sys.stderr)
        return EXIT_USAGE
    return _replace_set(args, store)


def cmd_add(args, store: IndexStore) -> int:
    corpus = _load(args)
    if _strict_refusal(args, corpus):
        return EXIT_INPUT_ERRORS
    for path in (p for p in corpus.empty_sources if p.exists()):  # an empty folder: said, as build says it
        print(f"error: {path}: no article file here (an empty, unmounted or unreadable folder?)", file=sys.stderr)
    if corpus.empty_sources and not corpus.articles and not corpus.pages and not corpus.errors:
        return EXIT_USAGE  # nothing to add, and nothing wrong with a file either
    with editing(store, args.wait) as (live, _):
        _publish(args, store, live, addition(corpus, live))
    return EXIT_INPUT_ERRORS if corpus.errors or corpus.empty_sources else EXIT_OK


def cmd_remove(args, store: IndexStore) -> int:
    if store.current_name() is None:  # checked before the lock, which would create the folder
        raise IndexMissing(f"no index at {store.root}; nothing to remove")
    with editing(store, args.wait) as (live, _):
        plan = removal(args.ids, live, store.root)
        for error in plan.errors:
            print(f"error: {error}", file=sys.stderr)
        if plan.removed:
            _publish(args, store, live, plan.change)
            if plan.errors:  # the error lines alone read as if nothing happened
                print(f"the other {len(plan.removed)} id(s) were removed and published: "
                      f"{', '.join(dict.fromkeys(plan.removed))}", file=sys.stderr)
    return EXIT_INPUT_ERRORS if plan.errors else EXIT_OK


def cmd_status(args, store: IndexStore) -> int:
    from indexer.index.vectors import describe
    generation = store.open_current()
    try:
        m = generation.manifest
        print(f"index:       {store.root}")
        print(f"generation:  {generation.name} (published {m['built_at']})")
        print(f"model:       {m['model']} ({m['dimension']} dimensions)")
        print(f"articles:    {m['articles']}")
        print(f"passages:    {m['passages']} live, {generation.deleted_passage_count} deleted "
              f"awaiting a merge")
        print(f"segments:    {len(m['segments'])}")
        for segment in generation.index_summary():
            print(f"  {segment['segment']}  {segment['passages']:8d} passages  {describe(segment)}")
        print(f"corpus hash: {m['corpus_hash'][:16]}")
        _print_history(store)
        print("articles by source:")
        for source, count in generation.counts_by_source().items():
            print(f"  {count:6d}  {source or '(no source named)'}")
        _print_repairs(generation)
    finally:
        generation.close()
    return EXIT_OK


def _print_repairs(generation) -> None:
    """What the import repaired (indexer.repair), by kind."""
    repaired, changed, kinds = generation.repair_counts()
    print(f"repairs:     {repaired} articles repaired, {changed} with their text changed "
          f"(source text kept)")
    for kind, count in kinds.items():
        print(f"  {count:6d}  {kind}")


def _print_history(store: IndexStore, recent: int = 8) -> None:
    """The states rollback walks through (oldest first), then the last
    publishes and rollbacks: an editor sees where a rollback would go."""
    history = store.history()
    marks = {history.live: " (live)"}
    marks.update({i: " (rolled back from)" for i in range(history.live + 1, len(history.chain))})
    print(f"history:     {' -> '.join(e.name + marks.get(i, '') for i, e in enumerate(history.chain))}")
    print(f"rollback to: {history.earlier()[0].name if history.earlier() else '(nothing earlier kept)'}")
    for event in history.events[-recent:]:
        since = f" (from {event['from']})" if event.get("from") else ""
        print(f"  {event['at']}  {event['action']:<8}  {event['generation']}{since}")


def cmd_verify(args, store: IndexStore) -> int:
    from indexer.index.verify import verify_generation
    generation = store.open_current()  # raises IndexCorrupt if it does not agree with itself
    try:
        problems = verify_generation(generation)
    finally:
        generation.close()
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        return EXIT_INDEX
    print(f"ok: {generation.name} is consistent ({generation.passage_count} passages)")
    return EXIT_OK


def cmd_rollback(args, store: IndexStore) -> int:
    with store.lock(args.wait, create=False):
        before = store.current_entry()
        valid = before is not None and before.name in store.generation_names()
        after = store.rollback()
    if valid:
        print(f"rolled back from {before.name} to {after}")
    else:
        print(f"CURRENT was missing or named no generation; made {after}, the last live one, live again")
    return EXIT_OK


COMMANDS = {"build": cmd_build, "add": cmd_add, "sync": cmd_sync, "remove": cmd_remove,
            "status": cmd_status, "verify": cmd_verify, "rollback": cmd_rollback,
            "insights": cmd_insights}
