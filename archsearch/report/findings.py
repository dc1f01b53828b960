"""The report section at the top: what is established, what is not, and the paper's claims.

Reads only the `Comparison` records (`evidence.gather`): a difference is
established when its Holm-adjusted p is below 0.05, and said with its ratio,
interval, p and trial counts; everything else is a tie at this budget. Each
claim of Jozefowicz et al. (2015) whose cells are in the report is checked on
every task: `reproduced` when every check supports it (for "at least as good":
at least one supports and none goes against it), `contradicted` when any
check goes significantly against it, else `inconclusive`.

Example:
    >>> pairs = set(claim_pairs({"f1": "gru", "f2": "lstm", "f3": "lstm_b"}))
    >>> ("f1", "f2") in pairs, ("f3", "f2") in pairs  # GRU ahead of LSTM; LSTM-b >= LSTM
    (True, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from archsearch.report.speed import ratio_text
from archsearch.report.stats import ALPHA, COVERAGE, MIN_RELIABLE, bracket
from archsearch.report.summaries import ClaimCheck, Comparison, Findings, Report

__all__ = ["CLAIMS", "Claim", "claim_pairs", "findings", "describe", "MAX_LINES"]

MAX_LINES = 10
CLOSE = 0.9  # "close": the whole interval within [0.9, 1/0.9]
LM_TASKS = ("ptb", "word_lm", "char_lm")


@dataclass(frozen=True)
class Claim:
    """A claim of the paper as checks `(cell, reference, relation)` on every task.

    Relations: `worse`, `better`, `not_worse` (at least as good) and `close`.
    `except_lm`: language-modelling tasks are not checked; `only_lm`: only
    they are.
    """

    text: str
    checks: tuple[tuple[str, str, str], ...]
    any_support: bool = False
    except_lm: bool = False
    only_lm: bool = False


_MUTS = ("gru", "mut1", "mut2", "mut3")
_NAMED = ("lstm", "lstm_f", "lstm_i", "lstm_o", "lstm_b", "gru", "mut1", "mut2", "mut3")
CLAIMS = (
    Claim("Removing the forget gate hurts most, then the input gate; the output gate least "
          "(lstm_f < lstm_i < lstm_o)",
          (("lstm_f", "lstm_i", "worse"), ("lstm_i", "lstm_o", "worse"),
           ("lstm_f", "lstm_o", "worse")), except_lm=True),
    Claim("Without its forget gate the LSTM does worse (lstm_f < lstm)",
          (("lstm_f", "lstm", "worse"),), except_lm=True),
    Claim("LSTM-b (forget bias 1) is at least as good as the LSTM",
          (("lstm_b", "lstm", "not_worse"),), any_support=True),
    Claim("GRU, MUT1, MUT2 and MUT3 are close to each other",
          tuple((a, b, "close") for k, a in enumerate(_MUTS) for b in _MUTS[k + 1:])),
    Claim("The GRU beats the LSTM except on language modelling",
          (("gru", "lstm", "better"),), except_lm=True),
    Claim("On language modelling the LSTM beats the GRU (the paper's one exception)",
          (("lstm", "gru", "better"),), only_lm=True),
    Claim("The tanh RNN is last", tuple(("tanh_rnn", b, "worse") for b in _NAMED)),
)


def claim_pairs(names: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """`(fingerprint, reference fingerprint)` pairs the claims need, among the cells present.

    Args:
        names: Fingerprint -> the cell's name (None for mutants).

    Returns:
        Pairs to test (each once).
    """
    by_name = {name: fp for fp, name in names.items() if name}
    pairs = [(by_name[a], by_name[b]) for claim in CLAIMS for a, b, _ in claim.checks
             if a in by_name and b in by_name]
    return list(dict.fromkeys(pairs))


def _p(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _iv(c: Comparison) -> str:
    if c.ratio is None:
        return "ratio n/a"
    if c.ratio_low is None:
        return f"ratio {c.ratio:.2f}, no interval (a single trial on a side)"
    text = f"ratio {c.ratio:.2f} {bracket(c.ratio_low, c.ratio_high)}"
    if not c.ratio_low <= c.ratio <= c.ratio_high:  # only where the verdict points the other way
        text += f" (its best trial is {'ahead' if c.ratio > 1 else 'behind'}, most are not)"
    return text + ("" if c.reliable else " (< 5 trials a side)")


def _where(c: Comparison) -> str:
    return "on the score (min over tasks)" if c.task == "score" else f"on {c.task}"


def describe(c: Comparison) -> str:
    """One comparison in words with its numbers.

    Example:
        >>> c = Comparison("rnn", "f" * 32, "xml", "gru", 6, 6, 0.46, 0.41, 0.52, True,
        ...                0.0002, 0.0006, 0.0, "worse")
        >>> print(describe(c))
        gru beats rnn on xml: rnn/gru ratio 0.46 [0.41, 0.52], p < 0.001 (Holm), 6 vs 6 trials
    """
    if c.task == "score":
        counts = f"at least {c.n} vs {c.reference_n} trials per task"
        p = "decided by its tasks" if c.p_holm is None else f"{_p(c.p_holm)} (Holm)"
    else:
        counts, p = f"{c.n} vs {c.reference_n} trials", f"{_p(c.p_holm)} (Holm)"
    if c.verdict in ("better", "worse"):
        win, lose = (c.cell, c.reference) if c.verdict == "better" else (c.reference, c.cell)
        return f"{win} beats {lose} {_where(c)}: {c.cell}/{c.reference} {_iv(c)}, {p}, {counts}"
    if c.task == "score":
        p = "no scored task differs significantly"
    return f"{c.cell} vs {c.reference}: tied {_where(c)} at this budget ({_iv(c)}, {p}, {counts})"


def _inv(x: float | None, zero: float | None = None) -> float | None:
    if x is None:
        return None
    return zero if x == 0 else 0.0 if math.isinf(x) else 1.0 / x


def _flip(c: Comparison) -> Comparison:
    verdict = {"better": "worse", "worse": "better"}.get(c.verdict, c.verdict)
    return Comparison(
        cell=c.reference, fingerprint="", task=c.task, reference=c.cell, n=c.reference_n,
        reference_n=c.n, ratio=_inv(c.ratio), ratio_low=_inv(c.ratio_high),
        ratio_high=_inv(c.ratio_low, math.inf), reliable=c.reliable, p_value=c.p_value,
        p_holm=c.p_holm, effect=None if c.effect is None else 1.0 - c.effect, verdict=verdict)


def _index(report: Report) -> dict[tuple[str, str, str], Comparison]:
    names = {c.label: (c.zoo_name or c.name or c.label) for c in report.cells}
    index = {}
    for c in (*report.comparisons, *report.pairs):
        if c.task == "score" or c.verdict == "baseline":
            continue
        a, b = names.get(c.cell, c.cell), names.get(c.reference, c.reference)
        index[(a, b, c.task)] = c
        index.setdefault((b, a, c.task), _flip(c))
    return index


def _support(c: Comparison, relation: str) -> int:
    """+1 supports, -1 goes against, 0 neither."""
    if relation in ("worse", "better"):
        other = "better" if relation == "worse" else "worse"
        return 1 if c.verdict == relation else -1 if c.verdict == other else 0
    if relation == "not_worse":
        return -1 if c.verdict == "worse" else 1 if c.verdict == "better" else 0
    if c.verdict in ("better", "worse"):
        return -1
    inside = (c.reliable and c.ratio_low is not None and c.ratio_low >= CLOSE
              and c.ratio_high <= 1 / CLOSE)
    return 1 if inside else 0


def _check(claim: Claim, index, tasks) -> ClaimCheck | None:
    found = []
    for a, b, relation in claim.checks:
        for task in tasks:
            if (claim.except_lm and task in LM_TASKS) or (
                    claim.only_lm and task not in LM_TASKS):
                continue
            c = index.get((a, b, task))
            if c is not None:
                found.append((c, _support(c, relation)))
    if not found:
        return None
    votes = [s for _, s in found]
    if -1 in votes:
        verdict = "contradicted"
    elif (any(v == 1 for v in votes) if claim.any_support else all(v == 1 for v in votes)):
        verdict = "reproduced"
    else:
        verdict = "inconclusive"
    shown = sorted(found, key=lambda f: (f[1] != -1, -abs(f[1])))[:4]
    evidence = "; ".join(describe(c) for c, _ in shown)
    more = len(found) - len(shown)
    return ClaimCheck(claim.text, verdict, evidence + (f"; and {more} more checks" if more else ""))


def findings(report: Report) -> Findings:
    """The findings of `report` in words (see the module docstring)."""
    rows = [c for c in report.comparisons if c.verdict in ("better", "worse", "tied")]
    if not rows and len(report.cells) == 1:
        return Findings(notes=(f"No comparisons: these runs hold one cell "
                               f"({report.cells[0].label}), as a one-cell tuning study does.",))
    if not rows:
        return Findings(notes=(f"No comparisons: the baseline {report.baseline!r} has no "
                               f"completed trials.",))
    mutants = {c.fingerprint for c in report.cells if c.is_mutant}
    confirmed_better = {r.fingerprint for r in report.confirmed if r.verdict == "better"}
    # A mutant never gets `better` from the trials it was selected on.
    selected = [c for c in rows if c.verdict == "better" and c.fingerprint in mutants]
    rows = [c for c in rows if c not in selected]
    significant = sorted((c for c in rows if c.verdict != "tied"),
                         key=lambda c: (c.p_holm if c.p_holm is not None else 1.0, c.cell))
    order = {c.label: k for k, c in enumerate(report.cells)}
    ties = sorted((c for c in rows if c.verdict == "tied"),
                  key=lambda c: (not c.reliable, c.task != "score", order.get(c.cell, 0), c.task))
    n_verdicts = sum(c.p_value is not None for c in report.comparisons)
    n_pairs = sum(c.p_value is not None for c in report.pairs)
    unreliable = sum(not c.reliable for c in rows)
    notes = [f"Tests: two-sided rank tests (Mann-Whitney U on trial scores; with several "
             f"seeds per hyperparameter setting, stratified by setting or on setting means: "
             f"comparisons.csv `test`), significant below {ALPHA} "
             f"after Holm's correction within each family: the {n_verdicts} verdicts vs the "
             f"baseline, and the {n_pairs} cell-vs-cell checks of the paper's claims. "
             f"Intervals: the ratios r at which the verdict's own test, run on the cell's "
             f"scores divided by r, finds no difference at the level Holm set for that "
             f"verdict (95% or wider), taking in the ratio of bests; so an interval leaves "
             f"out 1 exactly when the verdict is better or worse. On synthetic runs with a "
             f"known ratio they covered it in {min(COVERAGE.values()):.1%}-"
             f"{max(COVERAGE.values()):.1%} of runs at {min(COVERAGE)}-{max(COVERAGE)} trials "
             f"a side."]
    if unreliable:
        notes.append(f"{unreliable} of {len(rows)} comparisons rest on fewer than "
                     f"{MIN_RELIABLE} trials (settings, if seeded) a side: their ratios of "
                     f"bests rest on a handful of draws, and their intervals are wide.")
    for kind, items in (("established differences", significant), ("ties", ties)):
        if len(items) > MAX_LINES:
            notes.append(f"{len(items) - MAX_LINES} more {kind} are in comparisons.csv.")
    index = _index(report)
    tasks = [t.task for t in report.tasks]
    claims = tuple(c for c in (_check(claim, index, tasks) for claim in CLAIMS) if c)
    unconfirmed = [f"{describe(c)}; not confirmed: a mutant's search trials are the ones it "
                   f"was selected on" + (", see Confirmed" if c.fingerprint in confirmed_better
                                         else " (retrain it on fresh seeds: archsearch confirm)")
                   for c in selected]
    return Findings(established=tuple(map(describe, significant[:MAX_LINES])),
                    not_established=tuple([*unconfirmed, *map(describe, ties)][:MAX_LINES]),
                    claims=claims, notes=tuple(notes), confirmed=confirmed_lines(report),
                    speed=speed_lines(report))


def confirmed_lines(report: Report) -> tuple[str, ...]:
    """What confirmation showed, in words: whether a discovered cell held up.

    Example:
        >>> from archsearch.report.confirmed import ConfirmInput, confirm_table
        >>> rows = confirm_table([ConfirmInput("mut-1", "xml", "max", [0.6, 0.61, 0.6],
        ...                                    [0.6, 0.59, 0.61], 1.08, "mutant")])
        >>> class R: confirmed, baseline = tuple(rows), "gru"
        >>> print(confirmed_lines(R())[0])
        No discovered cell is confirmed better than gru on fresh seeds (1 confirmed, test split).
    """
    rows = [r for r in report.confirmed if r.ratio is not None]
    if not rows:
        return ()
    mutants = [r for r in rows if r.role == "mutant"]
    better = [r for r in mutants if r.verdict == "better"]
    lines = []
    if better:
        lines.extend(f"{r.cell} is confirmed better than {report.baseline} on {r.task} on "
                     f"{r.n} fresh seeds (test split): ratio {r.ratio:.3f} "
                     f"[{r.low:.3f}, {r.high:.3f}], search estimate {_fmt(r.search_ratio)}"
                     for r in better)
    elif mutants:
        lines.append(f"No discovered cell is confirmed better than {report.baseline} on fresh "
                     f"seeds ({len({r.cell for r in mutants})} confirmed, test split).")
    shrink = [r.shrinkage for r in rows if r.shrinkage is not None]
    if shrink:
        shrunk = sum(s > 0 for s in shrink)
        mean = sum(shrink) / len(shrink)
        what = ("the winner's curse" if mean > 0 else
                "no winner's curse on average: the two estimate different things, and a "
                "baseline whose best search trial was a lucky draw makes every search "
                "estimate small")
        lines.append(f"The confirmed ratio is below the search estimate for {shrunk} of "
                     f"{len(shrink)} cells (mean shrinkage {mean:+.3f}; search: best-of-n "
                     f"validation ratio; confirmed: ratio of test means on fresh seeds): "
                     f"{what}.")
    return tuple(lines)


def speed_lines(report: Report) -> tuple[str, ...]:
    """Learning speed in words: each cell that reaches a threshold faster or slower.

    Example:
        >>> from archsearch.report.speed import SpeedRow
        >>> row = SpeedRow("lstm", "fp", "adding", "mse", "min", 0.05, 1000, 10, 9, None,
        ...                500.0, float("inf"), 1.5, float("inf"), 0.001, 0.004, 0.9,
        ...                "trial", "worse")
        >>> class R: speed, baseline = (row,), "gru"
        >>> print(speed_lines(R())[0][:60])
        lstm learns slower than gru on adding: median steps to mse <
        >>> print(speed_lines(R())[0][60:120])
        = 0.05 not reached in 1,000 (9 of 10 trials never) vs 500, r
        >>> print(speed_lines(R())[0][120:])
        atio > 2.00 [1.50, ∞) (Holm p 0.004).
    """
    lines = []
    for r in report.speed:
        if r.verdict not in ("better", "worse"):
            continue
        sign = ">=" if r.mode == "max" else "<="
        cell = (f"{r.median_steps:,.0f}" if r.median_steps is not None
                else f"not reached in {r.budget:,}")
        base = (f"{r.baseline_median_steps:,.0f}" if r.baseline_median_steps is not None
                else f"not reached in {r.budget:,}")
        never = f" ({r.censored} of {r.n} trials never)" if r.censored else ""
        interval = "" if r.low is None or r.high is None else " " + bracket(r.low, r.high, 2)
        lines.append(f"{r.cell} learns {'faster' if r.verdict == 'better' else 'slower'} than "
                     f"{report.baseline} on {r.task}: median steps to {r.metric} {sign} "
                     f"{r.threshold:g} {cell}{never} vs {base}, ratio {ratio_text(r)}"
                     f"{interval} (Holm p {r.p_holm:.2g}).")
    return tuple(lines)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
