"""The protocol's tables, as `make eval` prints them (search_app/evaluation/protocol.py)."""
from __future__ import annotations

from collections import Counter

from search_app.evaluation.components import piece_per_fold, verdict
from search_app.evaluation.grid import describe
from search_app.evaluation.protocol import Protocol

VERDICTS = ("helps on 2+ folds", "helps on 1 fold only", "no effect", "mixed", "hurts")


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def fold_header(columns: str, folds: int, tail: str) -> str:
    """A per-fold table's header: `columns`, then f0..fN, then `tail`."""
    return columns + " ".join(f"{'f' + str(i):>6}" for i in range(folds)) + tail


def fold_cells(per_fold) -> str:
    return " ".join(f"{v:>6.3f}" for v in per_fold)


def ranked_modes(protocol: Protocol, want=lambda report: True):
    """Each mode's report once per way of ranking ("default" ranks as hybrid)."""
    seen = set()
    for r in protocol.modes.values():
        if r.ranked_as not in seen and want(r):
            seen.add(r.ranked_as)
            yield r


def folds_line(protocol: Protocol) -> str:
    sizes = " ".join(str(len(f)) for f in protocol.folds)
    return f"topic folds: {len(protocol.folds)} (queries per fold: {sizes}); a topic never spans two folds"


def summary_table(protocol: Protocol, dev_all: dict[str, float]) -> str:
    """Per mode: dev-all (shipped), the shipped settings' mean over folds,
    the cross-validated figure, topic level (shipped and cross-validated)."""
    header = f"{'mode':<10} {'dev-all':>8} {'folds':>8} {'cv':>8} {'topic':>8} {'topic-cv':>9} {'grid':>5} {'check':>8}"
    lines = ["MRR@10: dev-all = shipped settings, all queries; folds = shipped, mean over folds;",
             "cv = grid picked on the other folds, mean over held-out folds; topic = a hit is any",
             "entry of a right topic (shipped, all queries); topic-cv = topic level of the cv picks;",
             "check = queries where the bench's short cut equals the full search",
             "", header, "-" * len(header)]
    for mode, r in protocol.modes.items():
        n = len(protocol.fold_of)
        lines.append(f"{mode:<10} {dev_all[mode]:>8.3f} {mean(r.shipped):>8.3f} {r.cv.mean:>8.3f} "
                     f"{r.topic_all:>8.3f} {r.topic_cv:>9.3f} {r.points:>5} {r.fast_path_agrees:>4}/{n:<3}")
    return "\n".join(lines)


def picks_table(protocol: Protocol) -> str:
    lines = ["grid picks (chosen on the other folds; MRR@10 there / on the held-out fold):"]
    for r in ranked_modes(protocol, lambda report: report.points > 1):
        for p in r.cv.picks:
            lines.append(f"  {r.ranked_as:<8} fold {p.fold}: {describe(p.picked):<70} {p.train:.3f} / {p.held_out:.3f}")
    return "\n".join(lines)


def components_table(protocol: Protocol) -> str:
    """Each fold's MRR@10 with the glossary / the need cues on, off, and
    pruned on the other folds."""
    header = fold_header(f"{'mode':<8} {'piece':<15} {'variant':<13} ", len(protocol.folds),
                         f" {'mean':>7} {'vs on':>7}")
    lines = ["glossary and need cues per held-out fold (MRR@10):", header, "-" * len(header)]
    for r in ranked_modes(protocol):
        for kind, c in r.components.items():
            on = mean(c.variants["on"])
            for variant, per_fold in c.variants.items():
                lines.append(f"{r.ranked_as:<8} {kind:<15} {variant:<13} {fold_cells(per_fold)}"
                             f" {mean(per_fold):>7.3f} {mean(per_fold) - on:>+7.3f}")
    return "\n".join(lines)


def ablations_table(protocol: Protocol) -> str:
    """Per mode, each component switched off (the rest shipped): each
    fold's MRR@10 and how many folds it does better or worse on."""
    header = fold_header(f"{'mode':<8} {'switched off':<24} ", len(protocol.folds),
                         f" {'mean':>7} {'vs all on':>9} {'folds +/-':>9}")
    lines = ["each component switched off, the rest shipped (MRR@10 per fold; folds +/- = folds",
             "better / worse without it):", header, "-" * len(header)]
    for r in ranked_modes(protocol):
        on = mean(r.shipped)
        lines.append(f"{r.ranked_as:<8} {'(nothing: all on)':<24} {fold_cells(r.shipped)} {on:>7.3f}")
        for name, per_fold in r.ablations.items():
            better = sum(v > s + 1e-9 for v, s in zip(per_fold, r.shipped))
            worse = sum(v < s - 1e-9 for v, s in zip(per_fold, r.shipped))
            lines.append(f"{r.ranked_as:<8} {name:<24} {fold_cells(per_fold)}"
                         f" {mean(per_fold):>7.3f} {mean(per_fold) - on:>+9.3f} {better:>5}/{worse}")
    return "\n".join(lines)


def needs_table(protocol: Protocol) -> str:
    """Per mode: the need read by the cue lists, by nothing, by the title
    model (search_app/evaluation/need_model.py) alone and with the cue lists,
    the model's knobs picked on the other folds."""
    header = fold_header(f"{'mode':<8} {'need read by':<22} ", len(protocol.folds), f" {'mean':>7} {'vs cues':>8}")
    lines = ["needs read by the cue lists or by the model (MRR@10 per held-out fold; the model's",
             "strength C and threshold p picked on the other folds):", header, "-" * len(header)]
    for r in ranked_modes(protocol, lambda report: report.needs is not None):
        n = r.needs
        cues = mean(n.cues)
        rows = [("cue lists (shipped)", n.cues), ("nothing", n.off),
                ("title model", [p.held_out for p in n.model.picks]),
                ("title model + cues", [p.held_out for p in n.model_and_cues.picks])]
        for name, per_fold in rows:
            lines.append(f"{r.ranked_as:<8} {name:<22} {fold_cells(per_fold)}"
                         f" {mean(per_fold):>7.3f} {mean(per_fold) - cues:>+8.3f}")
        picks = ", ".join(f"f{p.fold}: C={p.picked[0]:g} p>={p.picked[1]:g}" for p in n.model.picks)
        fires = ", ".join(f"C={c:g} p>={t:g}: {f}" for (c, t), f in sorted(n.model_fires.items()))
        lines.append(f"  title model picks: {picks}")
        lines.append(f"  queries with a need read: cue lists {n.cue_fires}; title model {fires}")
    return "\n".join(lines)


def pieces_table(protocol: Protocol, mode: str, kind: str, total: int | None = None) -> str:
    """Per piece that fires: the folds it fires on, its effect on each
    (change in that fold's MRR@10), its verdict; then the verdict counts."""
    family = protocol.modes[mode].components[kind].family
    sizes = [len(f) for f in protocol.folds]
    counts: Counter[str] = Counter()
    rows = []
    for piece in family.pieces:
        per_fold = piece_per_fold(piece, protocol.fold_of, sizes)
        counts[verdict(per_fold)] += 1
        effects = " ".join(f"f{f}:{d:+.3f}" for f, d in sorted(per_fold.items()))
        rows.append(f"  {piece.name[:34]:<34} {len(piece.fires):>3} {effects:<40} {verdict(per_fold)}")
    never = f"; {total - len(family.pieces)} of {total} never fire on these queries" if total else ""
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    head = [f"{kind} (each) in {mode} ({len(family.pieces)} fire{never}): {tally}",
            f"  {kind:<34} {'n':>3} {'change in fold MRR@10 when on':<40} verdict"]
    return "\n".join(head + rows)
