"""Figures: thin seaborn/matplotlib renderers over a `Report`.

Each plot function returns a matplotlib `Figure`, or a one-line string saying
why there is nothing to draw. Figures are built on `matplotlib.figure.Figure`
(the Agg canvas), never through pyplot, so rendering a report changes no global
backend or style of the calling program. Everything drawn fits the canvas at
any number of cells and tasks: titles are wrapped to the width they have
(`_fit`), and figure legends go below the axes with as many columns as fit,
the figure growing by their height (`_legend_below`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from archsearch.report.analysis import ALL_CELLS
from archsearch.report.summaries import Report

__all__ = ["FigureSpec", "FIGURES", "render_figures", "ABLATION_CELLS", "hparams_note",
           "importance_note", "progress_note"]

ABLATION_CELLS = ("lstm", "lstm_f", "lstm_i", "lstm_o", "lstm_b", "gru")
DPI = 110
MAX_TASK_PANELS = 4
MAX_FAMILIES = 6
MAX_LINES = 8
PAD = 0.08            # inches between the canvas's edge and anything drawn
MIN_FONTSIZE = 6.0    # a title that does not fit wrapped is shrunk, down to this size


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report.

    Args:
        key: Section key (`ablation`, `progress`, ...).
        file: File name under `figures/`.
        title: Section title.
        caption: What the figure shows, in one or two sentences.
        plot: `plot(report) -> Figure | str` (str: why there is no figure).
        skip: `skip(report) -> str | None`, a check without drawing: why the
            figure would show nothing worth a figure (the report prints that
            line instead, also when figures are off), or None.
    """

    key: str
    file: str
    title: str
    caption: str
    plot: Callable
    skip: Callable | None = None

    def skipped(self, report: Report) -> str | None:
        """Why this figure is left out of `report`, or None."""
        return self.skip(report) if self.skip is not None else None


@dataclass(frozen=True)
class RenderedFigure:
    """A figure written to disk, or the reason it was not drawn."""

    spec: FigureSpec
    path: str | None
    empty: str | None


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw):
    import seaborn as sns
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        fig = Figure(figsize=(width, height), layout="constrained")
        fig.get_layout_engine().set(w_pad=PAD, h_pad=PAD)
        FigureCanvasAgg(fig)  # a renderer to measure text with; no pyplot, no global backend
        axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _wrap(text, room: float, renderer) -> None:
    """Wraps `text` (a matplotlib Text) at spaces until it is at most `room` pixels long.

    Long = wide, or tall for vertical text (a y label). A line that still does
    not fit (one long word) shrinks the font, down to `MIN_FONTSIZE`.
    """
    vertical = abs(text.get_rotation() % 180 - 90) < 1

    def length() -> float:
        box = text.get_window_extent(renderer)
        return box.height if vertical else box.width

    original = text.get_text()
    if not original or length() <= room:
        return
    longest = max(map(len, original.splitlines()))
    for chars in range(longest - 1, 9, -1):
        text.set_text("\n".join(textwrap.fill(line, chars, break_long_words=False)
                                 for line in original.splitlines()))
        if length() <= room:
            return
    size = text.get_fontsize()
    while length() > room and size > MIN_FONTSIZE:
        size = max(MIN_FONTSIZE, size * 0.9)
        text.set_fontsize(size)


def _fit(fig, title: str, **kw):
    """Titles `fig` (wrapped to its width) and fits each axes' title and labels; returns `fig`.

    The figure grows by the lines the wrapping adds, so the axes keep their size.
    """
    renderer = fig.canvas.get_renderer()
    pad = PAD * fig.dpi
    suptitle = fig.suptitle(title, **kw)
    one_line = suptitle.get_window_extent(renderer).height
    _wrap(suptitle, fig.bbox.width - 2 * pad, renderer)
    added = suptitle.get_window_extent(renderer).height - one_line
    fig.set_figheight(fig.get_figheight() + max(0.0, added) / fig.dpi)
    fig.draw_without_rendering()  # the constrained layout places the axes
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        # an axes' texts may use the gaps to its neighbours, never the figure's margins
        _wrap(ax.title, min(ax.bbox.width + 2 * pad, fig.bbox.width - 2 * pad), renderer)
        _wrap(ax.xaxis.label, min(ax.bbox.width + 2 * pad, fig.bbox.width - 2 * pad), renderer)
        _wrap(ax.yaxis.label, min(ax.bbox.height + 2 * pad, fig.bbox.height - 2 * pad),
              renderer)
    return fig


def _legend_below(fig, handles, labels, **kw):
    """A figure legend under the axes, in as many columns as fit the figure's width.

    The figure grows by the legend's height, so the axes keep their size.
    """
    if not labels:
        return None
    renderer = fig.canvas.get_renderer()
    room = fig.bbox.width - 2 * PAD * fig.dpi
    kw = {"fontsize": 8, "frameon": False, **kw}
    for ncols in range(max(1, len(labels)), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=ncols, **kw)
        box = legend.get_window_extent(renderer)
        if box.width <= room or ncols == 1:
            break
        legend.remove()
    rows = -(-len(labels) // ncols)
    balanced = -(-len(labels) // max(1, rows))
    if balanced < ncols:  # as many rows, fewer columns: the last row is not left near empty
        legend.remove()
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=balanced, **kw)
        box = legend.get_window_extent(renderer)
    fig.set_figheight(fig.get_figheight() + box.height / fig.dpi + PAD)
    return legend


def _named_palette(report: Report) -> dict:
    """One colour per named cell, the same in every figure (the ablation cells first)."""
    import seaborn as sns

    named = [c.label for c in report.cells if not c.is_mutant]
    order = [n for n in ABLATION_CELLS if n in named] + [n for n in named
                                                          if n not in ABLATION_CELLS]
    deep = sns.color_palette("deep", 10)
    colours = [c for k, c in enumerate(deep) if k != 7]  # grey is for mutants
    return {name: colours[k % len(colours)] for k, name in enumerate(order)}


def _tasks(report: Report) -> list:
    return list(report.tasks[:MAX_TASK_PANELS])


def _task_trials(report: Report, task: str) -> pd.DataFrame:
    df = report.trials
    return df[(df.task == task) & df.ok & (df.stage != "prefilter")]


def _metric_label(summary) -> str:
    arrow = "higher is better" if summary.mode == "max" else "lower is better"
    return f"{summary.metric} ({arrow})"


def plot_ratios(report: Report):
    """Heatmap of each top cell's best relative to the baseline, per task, and its score."""
    import seaborn as sns

    rows = [c for c in report.cells if c.score is not None][:25]
    if not rows:
        return f"no ratios: the baseline {report.baseline!r} has no completed trials"
    tasks = [t.task for t in report.tasks]
    data = pd.DataFrame([[c.tasks[t].ratio if t in c.tasks else np.nan for t in tasks]
                         + [c.score] for c in rows],
                        index=[c.label for c in rows], columns=tasks + ["score (min)"],
                        dtype=float)
    from matplotlib.colors import TwoSlopeNorm

    fig, axes = _figure(2.0 + 1.6 * len(data.columns), 1.6 + 0.45 * len(rows))
    low, high = float(np.nanmin(data.to_numpy())), float(np.nanmax(data.to_numpy()))
    norm = TwoSlopeNorm(vcenter=1.0, vmin=min(low, 0.95), vmax=max(high, 1.05))
    ticks = sorted({*np.linspace(norm.vmin, 1.0, 4).round(2), *np.linspace(1.0, norm.vmax,
                                                                           3).round(2)})
    labels = pd.DataFrame(
        [[_ratio_label(c.tasks.get(t)) for t in tasks]
         + [_interval_label(c.score, c.score_low, c.score_high, c.score_reliable)]
         for c in rows], index=data.index, columns=data.columns)
    sns.heatmap(data, ax=axes[0, 0], annot=labels, fmt="", cmap="RdBu", norm=norm,
                cbar_kws={"label": f"ratio to {report.baseline}", "ticks": ticks},
                linewidths=0.5)
    axes[0, 0].set_ylabel("")
    axes[0, 0].grid(False)
    axes[0, 0].tick_params(axis="y", rotation=0)
    return _fit(fig, f"best valid score / {report.baseline}'s best (> 1: better), "
                     f"95% interval (? = under 5 trials a side)", fontsize=9)


def _interval_label(value, low, high, reliable) -> str:
    if value is None:
        return ""
    if low is None or high is None:
        return f"{value:.3f}"
    return f"{value:.3f}\n[{low:.2f}, {high:.2f}]" + ("" if reliable else "?")


def _ratio_label(stats) -> str:
    if stats is None:
        return ""
    return _interval_label(stats.ratio, stats.ratio_low, stats.ratio_high, stats.reliable)


def plot_ablation(report: Report):
    """Best and all trial scores of the LSTM ablations next to LSTM-b and the GRU."""
    import seaborn as sns

    by_name = {}
    for c in report.cells:
        for key in (c.zoo_name, c.name):
            if key in ABLATION_CELLS and key not in by_name:
                by_name[key] = c
    present = [n for n in ABLATION_CELLS if n in by_name]
    if len(present) < 2:
        return ("no ablation data: needs at least two of " + ", ".join(ABLATION_CELLS)
                + f" (found {', '.join(present) or 'none'})")
    tasks = _tasks(report)
    fig, axes = _figure(3.2 * len(tasks) + 0.6, 3.6, 1, len(tasks))
    named = _named_palette(report)
    palette = {n: named.get(by_name[n].label, "#7f7f7f") for n in present}
    for ax, summary in zip(axes[0], tasks, strict=True):
        trials = _task_trials(report, summary.task)
        fp_to_name = {by_name[n].fingerprint: n for n in present}
        trials = trials[trials.fingerprint.isin(fp_to_name)]
        trials = trials.assign(cell=trials.fingerprint.map(fp_to_name))
        best = [by_name[n].tasks.get(summary.task) for n in present]
        heights = [b.best if b is not None and b.best is not None else np.nan for b in best]
        ax.bar(range(len(present)), heights, color=[palette[n] for n in present], alpha=0.35,
               edgecolor=[palette[n] for n in present], linewidth=1.5)
        if len(trials):
            sns.stripplot(data=trials, x="cell", y="score", order=present, hue="cell",
                          palette=palette, ax=ax, size=3.5, jitter=0.2, legend=False)
        for k, h in enumerate(heights):
            if not np.isnan(h):
                ax.annotate(f"{h:.3f}", (k, h), ha="center", va="bottom", fontsize=8,
                            xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(range(len(present)), present, rotation=30)
        ax.set_title(summary.task)
        ax.set_xlabel("")
        ax.set_ylabel(_metric_label(summary))
    return _fit(fig, "LSTM ablations: bar = best trial, dots = every completed trial")


def plot_expected(report: Report):
    """Expected best score after k hyperparameter samples, per task (Dodge et al. 2019)."""
    import seaborn as sns

    named = [c.label for c in report.cells if not c.is_mutant]
    shown = set(named[:MAX_LINES] + [c.label for c in report.cells if c.is_mutant][:3])
    rows = [(e.cell, e.task, k + 1, v) for e in report.expected if e.cell in shown
            for k, v in enumerate(e.curve)]
    data = pd.DataFrame(rows, columns=["cell", "task", "k", "expected best"])
    if not len(data) or data.k.max() < 2:
        return "no expected-best curves: needs a cell with at least two completed trials on a task"
    tasks = [t for t in _tasks(report) if t.task in set(data.task)]
    fig, axes = _figure(3.6 * len(tasks) + 1.6, 3.4, 1, len(tasks))
    palette = {**{c: "#9e9ac8" for c in shown}, **_named_palette(report)}
    for ax, summary in zip(axes[0], tasks, strict=True):
        part = data[data.task == summary.task]
        sns.lineplot(data=part, x="k", y="expected best", hue="cell", palette=palette, ax=ax,
                     marker="o", markersize=3, legend=False)
        ax.set_title(summary.task)
        ax.set_xlabel("hyperparameter samples k")
        ax.set_ylabel(f"expected best {summary.metric}")
        for cell in part.cell.unique():
            ax.plot([], [], color=palette.get(cell, "#7f7f7f"), label=cell)
    _legend_below(fig, *_dedupe(axes))
    return _fit(fig, "Expected best validation score after k samples "
                     "(exact, from the n observed)")


def plot_forget_bias(report: Report):
    """Score against the LSTM's effective forget-gate bias, per task."""
    import seaborn as sns

    df = report.trials
    lstm = df[df.forget_bias.notna() & df.ok & (df.stage != "prefilter")] if len(df) else df
    if not len(lstm) or lstm.forget_bias.nunique() < 2:
        return ("no forget-bias data: needs LSTM trials with at least two forget-gate biases "
                "(e.g. lstm and lstm_b, or the forget_bias hyperparameter)")
    tasks = [t for t in _tasks(report) if t.task in set(lstm.task)]
    fig, axes = _figure(3.4 * len(tasks) + 0.6, 3.4, 1, len(tasks))
    base = report.baseline_fingerprint
    for ax, summary in zip(axes[0], tasks, strict=True):
        part = lstm[lstm.task == summary.task]
        part = part.assign(bias=part.forget_bias.map("{:g}".format))
        order = sorted(part.bias.unique(), key=float)
        sns.boxplot(data=part, x="bias", y="score", order=order, ax=ax, color="#c6dbef",
                    fliersize=0, width=0.5)
        sns.stripplot(data=part, x="bias", y="score", order=order, ax=ax, color="#08519c",
                      size=3.5, jitter=0.15)
        best = part.groupby("bias").score.agg("max" if summary.mode == "max" else "min")
        ax.plot([order.index(b) for b in best.index], best.to_numpy(), "D-", color="#e6550d",
                label="best per bias")
        base_stats = next((c.tasks.get(summary.task) for c in report.cells
                           if c.fingerprint == base), None)
        if base_stats is not None and base_stats.best is not None:
            ax.axhline(base_stats.best, ls="--", color="gray", label=f"{report.baseline} best")
        ax.set_title(summary.task)
        ax.set_xlabel("forget-gate bias at init")
        ax.set_ylabel(_metric_label(summary))
        ax.legend(fontsize=7, loc="lower right")
    return _fit(fig, "Forget-gate bias: every LSTM trial (box = quartiles), best per bias")


def _varied_hparams(report: Report) -> list[str]:
    """The `hp.*` columns taking two or more values (None = `default`) in the scored trials."""
    df = report.trials
    ok = df[df.rel_cell.notna()] if len(df) else df
    return [c for c in ok.columns if c.startswith("hp.")
            and ok[c].astype(object).where(ok[c].notna(), "default").astype(str).nunique() > 1]


def hparams_note(report: Report) -> str | None:
    """One line for the Hyperparameters section when it has nothing to show, else None."""
    if _varied_hparams(report):
        return None
    return ("no hyperparameter varies in these trials (every scored trial used the same "
            "setting), so there is no importance or sensitivity to show")


def importance_note(report: Report) -> str | None:
    """Why the importance heat map and table are left out, else None.

    Besides too few trials: when a single hyperparameter varies, fANOVA gives it
    all of the variance it explains (1.00 in every family) by construction,
    which ranks nothing.
    """
    if not report.importance:
        return report.importance_note or "no completed trials whose hyperparameters vary"
    varied = list(dict.fromkeys(e.hparam for e in report.importance))
    if len(varied) > 1:
        return None
    return (f"{varied[0]} is the only hyperparameter that varies in these trials, so fANOVA "
            f"gives it all of the variance by construction (1.00 in every family); its effect "
            f"is in the sensitivity figure")


def progress_note(report: Report) -> str | None:
    """One line instead of the search-progress figure when every run is a `fixed` study."""
    if not report.runs or any(r.strategy != "fixed" for r in report.runs):
        return None
    return ("every run is a fixed study (a set list of cells and hyperparameter samples), "
            "not a search, so there is no search progress to show")


def plot_importance(report: Report):
    """Heatmap of the fANOVA importance of each hyperparameter per cell family."""
    import seaborn as sns

    note = importance_note(report)
    if note:
        return note
    table = pd.DataFrame([(e.family, e.hparam, e.importance) for e in report.importance],
                         columns=["family", "hparam", "r2"])
    grid = table.pivot(index="family", columns="hparam", values="r2")
    order = [ALL_CELLS] + sorted(f for f in grid.index if f != ALL_CELLS)
    grid = grid.reindex([f for f in order if f in grid.index])
    grid = grid[grid.loc[grid.index[0]].sort_values(ascending=False).index]
    # tall enough for the colour bar's label
    fig, axes = _figure(1.6 + 1.1 * grid.shape[1], max(3.0, 1.3 + 0.4 * grid.shape[0]))
    sns.heatmap(grid, ax=axes[0, 0], annot=True, fmt=".2f", vmin=0, vmax=max(0.3, grid.max().max()),
                cmap="Blues", cbar_kws={"label": "fANOVA main effect (share of variance)"},
                linewidths=0.5)
    axes[0, 0].grid(False)
    axes[0, 0].set_xlabel("hyperparameter")
    axes[0, 0].set_ylabel("cell family")
    axes[0, 0].tick_params(axis="y", rotation=0)
    return _fit(fig, "Hyperparameter importance: fANOVA")


def plot_sensitivity(report: Report):
    """Median score / the cell's best (with IQR) per hyperparameter value, per family."""
    import seaborn as sns

    df = report.trials
    ok = df[df.rel_cell.notna()] if len(df) else df
    hps = _varied_hparams(report)
    if not len(ok) or not hps:
        return "no hyperparameter sensitivity: no hyperparameter takes two values in these trials"
    families = list(ok.family.value_counts().index[:MAX_FAMILIES])
    ok = ok[ok.family.isin(families)]
    named = _named_palette(report)
    palette = {f: named.get(f, "#7f7f7f") for f in families}
    ncols = min(3, len(hps))
    nrows = int(np.ceil(len(hps) / ncols))
    fig, axes = _figure(4.2 * ncols, 3.0 * nrows + 0.5, nrows, ncols, sharey=True)
    from archsearch.report.analysis import levels

    for k, (ax, column) in enumerate(zip(axes.flat, hps, strict=False)):
        part = ok.assign(level=levels(ok[column]))
        order = sorted(part.level.unique(), key=_sort_key)
        sns.pointplot(data=part, x="level", y="rel_cell", hue="family", hue_order=families,
                      palette=palette,
                      order=order, estimator="median", errorbar=("pi", 50),
                      dodge=0.3 if len(families) > 1 else False,
                      ax=ax, markersize=4, linewidth=1.2, legend=k == 0)
        if k == 0 and ax.get_legend() is not None:
            handles, labels = ax.get_legend_handles_labels()
            ax.get_legend().remove()
            _legend_below(fig, handles, labels, title="family")
        ax.set_title(column.removeprefix("hp."))
        ax.set_xlabel("")
        ax.set_ylabel("score / cell's best")
        ax.tick_params(axis="x", rotation=30)
    for ax in list(axes.flat)[len(hps):]:
        ax.set_visible(False)
    return _fit(fig, "Hyperparameter sensitivity: median score / the cell's best on the task, "
                     "bars = IQR")


def _sort_key(level: str):
    try:
        return (0, float(level), "")
    except ValueError:
        return (1, 0.0, level)


def plot_progress(report: Report):
    """Best-so-far score against trial sequence and wall time, one line per run."""
    import seaborn as sns

    prog = report.progress
    if not len(prog):
        return "no search progress: no completed task trials yet"
    note = progress_note(report)
    if note:
        return note
    tasks = [t for t in _tasks(report) if t.task in set(prog.task)]
    timed = prog.minutes.notna().any()
    nrows = 2 if timed else 1
    fig, axes = _figure(3.6 * len(tasks) + 1.6, 3.0 * nrows + 0.4, nrows, len(tasks))
    series = list(dict.fromkeys(prog.series))
    palette = dict(zip(series, sns.color_palette("tab10", len(series)), strict=True))
    for col, summary in enumerate(tasks):
        part = prog[prog.task == summary.task]
        for row, x in enumerate(["trial", "minutes"][:nrows]):
            ax = axes[row, col]
            for name, line in part.groupby("series", sort=False):
                line = line.dropna(subset=[x])
                ax.step(line[x], line["best"], where="post", color=palette[name], label=name)
                ax.scatter(line[x], line["score"], s=6, color=palette[name], alpha=0.25)
            ax.set_xlabel("trial (sequence in run)" if x == "trial" else "wall time (minutes)")
            ax.set_ylabel(f"best {summary.metric} so far")
            ax.set_title(summary.task)
    _legend_below(fig, *_dedupe(axes), title="run (strategy)")
    return _fit(fig, "Search progress: best so far (line) and each completed trial (dots)")


def plot_mutants(report: Report):
    """Distribution of mutant cells' results, with the named cells marked."""
    import seaborn as sns
    from matplotlib.ticker import MaxNLocator

    mutants = [c for c in report.cells if c.is_mutant]
    if not mutants:
        return "no mutants: every cell in these runs is a named (zoo or seed) cell"
    named = [c for c in report.cells if not c.is_mutant][:8]
    palette = _named_palette(report)
    panels = []
    if any(c.score is not None for c in mutants):
        panels.append(("score", f"score (min ratio to {report.baseline})",
                       lambda c: c.score))
    for t in _tasks(report):
        panels.append((t.task, f"best {t.metric} on {t.task}",
                       lambda c, t=t.task: c.tasks[t].best if t in c.tasks else None))
    fig, axes = _figure(3.6 * len(panels) + 0.4, 3.4, 1, len(panels))
    for ax, (_, label, get) in zip(axes[0], panels, strict=True):
        values = [v for v in map(get, mutants) if v is not None]
        if values:
            sns.histplot(values, ax=ax, color="#9e9ac8", bins=min(20, max(5, len(values) // 2)),
                         label="mutants")
        for c in named:
            v = get(c)
            if v is not None:
                ax.axvline(v, color=palette[c.label], lw=1.6, label=c.label)
        ax.set_xlabel(f"{label}\n({len(values)} mutant{'s' if len(values) != 1 else ''})")
        ax.set_ylabel("cells")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _legend_below(fig, *_dedupe(axes))
    return _fit(fig, "Mutant cells (histogram) against the named cells (lines)")


def _dedupe(axes):
    seen = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    return list(seen.values()), list(seen.keys())


def plot_params(report: Report):
    """Trial parameter count against score, per task; named cells coloured, mutants grey."""
    df = report.trials
    ok = df[df.ok & (df.stage != "prefilter") & df.params.notna()] if len(df) else df
    if not len(ok):
        return "no parameter counts recorded for completed trials"
    tasks = [t for t in _tasks(report) if t.task in set(ok.task)]
    named = [c.label for c in report.cells if not c.is_mutant][:8]
    fig, axes = _figure(3.6 * len(tasks) + 1.6, 3.4, 1, len(tasks))
    palette = _named_palette(report)
    for ax, summary in zip(axes[0], tasks, strict=True):
        part = ok[ok.task == summary.task]
        grey = part[~part.label.isin(named)]
        if len(grey):
            ax.scatter(grey.params, grey.score, s=10, color="#bbbbbb", label="mutants")
        for name in named:
            mine = part[part.label == name]
            if len(mine):
                ax.scatter(mine.params, mine.score, s=14, color=palette[name], label=name)
        if part.params.max() > 10 * max(1, part.params.min()):
            ax.set_xscale("log")
        ax.set_xlabel("parameters (whole model)")
        ax.set_ylabel(_metric_label(summary))
        ax.set_title(summary.task)
    _legend_below(fig, *_dedupe(axes))
    return _fit(fig, "Parameters against score, every completed trial")


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("ratios", "ratios.png", "Ratio to the baseline",
               "Each top cell's best validation score divided by the baseline's best on the "
               "same task (inverted where lower is better), with the interval of its verdict; "
               "the last column is the min-ratio score.", plot_ratios),
    FigureSpec("expected", "expected_best.png", "Expected best after k samples",
               "Dodge et al. (2019): the expected best validation score if only k of a cell's "
               "n trials had been run (k drawn from the n observed, with replacement), per "
               "task; a cell whose curve is still rising would gain from more samples, and "
               "where curves cross the ranking depends on the budget.", plot_expected),
    FigureSpec("ablation", "ablation.png", "LSTM ablations",
               "The paper's ablations: LSTM without forget (lstm_f), input (lstm_i) or output "
               "(lstm_o) gate, LSTM with forget bias 1 (lstm_b), and the GRU.", plot_ablation),
    FigureSpec("forget_bias", "forget_bias.png", "Forget-gate bias",
               "LSTM trials grouped by the forget-gate bias they started with (the cell's own "
               "or the forget_bias hyperparameter).", plot_forget_bias),
    FigureSpec("importance", "importance.png", "Hyperparameter importance",
               "fANOVA importance per hyperparameter and cell family: the share of the "
               "variance of each trial's score / its cell's best on the task that the "
               "hyperparameter's main effect explains (a family = a named cell and the "
               "mutants descending from it).",
               plot_importance, importance_note),
    FigureSpec("sensitivity", "sensitivity.png", "Hyperparameter sensitivity",
               "Median score / the cell's best on the task for each value of each "
               "hyperparameter, per family (1 = as good as the cell gets); bars span the "
               "interquartile range.", plot_sensitivity, hparams_note),
    FigureSpec("progress", "progress.png", "Search progress",
               "Best validation score so far against the trial's sequence number and against "
               "wall time, one line per run (strategy in brackets).", plot_progress,
               progress_note),
    FigureSpec("mutants", "mutants.png", "Mutants against the named cells",
               "Histogram of the mutant cells' min-ratio scores and per-task bests; vertical "
               "lines mark the named cells.", plot_mutants),
    FigureSpec("params", "params.png", "Parameters against score",
               "Every completed trial: model parameter count against validation score.",
               plot_params),
)


def render_figures(report: Report, folder: Path) -> dict[str, RenderedFigure]:
    """Draws every figure into `folder` (PNG).

    Args:
        report: The report.
        folder: Existing folder to write the PNG files into.

    Returns:
        Figure key -> `RenderedFigure` (with `path` relative to the report, or
        `empty` saying why there is no figure).
    """
    import warnings

    from archsearch.report.load import ReportWarning

    out = {}
    for spec in FIGURES:
        skipped = spec.skipped(report)
        if skipped:
            out[spec.key] = RenderedFigure(spec, None, skipped)
            continue
        with warnings.catch_warnings():
            # seaborn 0.13 passes arguments matplotlib 3.10+ deprecates; not ours to fix
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                result = spec.plot(report)
                if not isinstance(result, str):
                    result.savefig(folder / spec.file, dpi=DPI, facecolor="white")
            except Exception as err:  # a figure must never cost the whole report
                result = f"could not draw this figure ({type(err).__name__}: {err})"
                warnings.warn(f"figure {spec.file}: {result}", ReportWarning, stacklevel=2)
        if isinstance(result, str):
            out[spec.key] = RenderedFigure(spec, None, result)
        else:
            out[spec.key] = RenderedFigure(spec, f"figures/{spec.file}", None)
    return out
