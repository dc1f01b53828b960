"""Renderers: a `Report` -> index.html, report.md, leaderboard.csv, comparisons.csv, figures.

Everything is written into a temporary folder next to the output, then moved
into place in one rename, so an interrupted or failed render leaves either the
previous report or nothing, never half of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from archsearch.report.figures import (
    FIGURES,
    RenderedFigure,
    hparams_note,
    importance_note,
    render_figures,
)
from archsearch.report.speed import ratio_text
from archsearch.report.summaries import Report
from archsearch.report.tables import (
    comparisons_frame,
    fmt,
    fmt_interval,
    fmt_steps,
    leaderboard_frame,
    paper_rows,
    speed_frame,
)

__all__ = ["ReportOutputError", "write_report", "render_html", "render_markdown"]

MAX_BOARD_ROWS = 200
MAX_SPEED_ROWS = 40  # the rest are in speed.csv
_REPORT_FILES = ("index.html", "report.md", "leaderboard.csv", "comparisons.csv", "speed.csv")


class ReportOutputError(ValueError):
    """The output folder cannot be used (message names it)."""


def write_report(report: Report, out: str | os.PathLike, *, figures: bool = True) -> Path:
    """Writes the report folder atomically and returns its path.

    Args:
        report: What `summarize` returned.
        out: Output folder. An existing report there is replaced; any other
            non-empty folder is refused.
        figures: Draw the PNG figures (False: sections say so; faster).

    Returns:
        The output folder.

    Raises:
        ReportOutputError: `out` is a file, or a non-empty folder that does not
            hold a report.
    """
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise ReportOutputError(f"{out}: exists and is not a folder")
        if any(out.iterdir()) and not any((out / f).exists() for f in _REPORT_FILES):
            raise ReportOutputError(f"{out}: folder exists and does not hold a report; "
                                    f"refusing to replace it (choose another --out)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        _write_all(report, tmp, figures)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.rmdir(old)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_all(report: Report, folder: Path, figures: bool) -> None:
    (folder / "figures").mkdir()
    (folder / "genomes").mkdir()
    if figures:
        figs = render_figures(report, folder / "figures")
    else:
        figs = {s.key: RenderedFigure(s, None, s.skipped(report)
                                      or "figures not rendered (--no-figures)")
                for s in FIGURES}
    for fp, text in report.genomes.items():
        (folder / "genomes" / f"{fp}.json").write_text(text, encoding="utf-8")
    leaderboard_frame(report).to_csv(folder / "leaderboard.csv", index=False)
    comparisons_frame(report).to_csv(folder / "comparisons.csv", index=False)
    speed_frame(report).to_csv(folder / "speed.csv", index=False)
    (folder / "index.html").write_text(render_html(report, figs), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(report, figs), encoding="utf-8")


def _env(autoescape: bool):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("archsearch.report", "templates"),
        autoescape=autoescape, trim_blocks=False, lstrip_blocks=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _context(report: Report, figs) -> dict:
    from archsearch import __version__

    df = report.trials
    labels = {c.fingerprint: c.label for c in report.cells}
    # no table where the heat map says why there are no numbers worth showing
    shown = () if importance_note(report) else report.importance
    imp_hparams = list(dict.fromkeys(e.hparam for e in shown))
    imp_rows = {}
    for e in shown:
        imp_rows.setdefault(e.family, (e.family, e.n, {}))[2][e.hparam] = e
    return dict(
        report=report, figs=figs, fmt=fmt, fmt_interval=fmt_interval, fmt_steps=fmt_steps,
        speed_ratio=ratio_text, version=__version__, speed=_speed_shown(report),
        speed_more=max(0, len(report.speed) - MAX_SPEED_ROWS),
        noise=[n for n in report.noise if n.repeated], findings=report.findings,
        n_trials=len(df), n_completed=int(df.ok.sum()) if len(df) else 0,
        n_failed=int((df.status == "failed").sum()) if len(df) else 0,
        n_stopped=int((df.status == "stopped").sum()) if len(df) else 0,
        n_mutants=sum(c.is_mutant for c in report.cells),
        top=report.cells[0] if report.cells else None,
        paper=paper_rows(report), board=report.cells[:MAX_BOARD_ROWS],
        imp_hparams=imp_hparams, imp_rows=list(imp_rows.values()), best_hp=_best_hparams,
        hp_note=hparams_note(report),
        parent_label=lambda fp: labels.get(fp, fp[:12]),
        ratio_class=lambda r: "" if r is None else ("up" if r >= 1 else "down"),
        diff_class=_diff_class,
    )


def _speed_shown(report: Report) -> list:
    """The speed rows the pages show: the baselines and the most significant, in table order."""
    if len(report.speed) <= MAX_SPEED_ROWS:
        return list(report.speed)
    ranked = sorted(report.speed, key=lambda r: (r.verdict != "baseline",
                                                 1.0 if r.p_holm is None else r.p_holm))
    keep = {id(r) for r in ranked[:MAX_SPEED_ROWS]}
    return [r for r in report.speed if id(r) in keep]


def _best_hparams(cell) -> str:
    """The hyperparameters of the cell's best trial on its weakest task, as text."""
    stats = [s for s in cell.tasks.values() if s.best_hparams]
    if not stats:
        return ""
    weakest = min(stats, key=lambda s: s.ratio if s.ratio is not None else float("inf"))
    shown = {k: v for k, v in weakest.best_hparams.items() if v is not None}
    return f"{weakest.task}: " + ", ".join(f"{k}={v}" for k, v in shown.items())


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---", "@@")):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "")


def render_html(report: Report, figs) -> str:
    """Returns index.html for `report` and its rendered figures."""
    return _env(True).get_template("index.html.j2").render(**_context(report, figs))


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header, rows) -> str:
    lines = ["| " + " | ".join(map(_md_cell, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: Report, figs) -> str:
    """Returns report.md for `report` and its rendered figures."""
    ctx = _context(report, figs)
    tasks = [t.task for t in report.tasks]
    paper_md = []
    for row in ctx["paper"]:
        entries = []
        for e in row.entries:
            text = f"**{e.best}**" if e.is_best else e.best
            entries.append(" ".join(x for x in (text, e.ratio, f"({e.spread})" if e.spread
                                                else "") if x))
            if e.verdict:
                entries[-1] += f" {e.verdict}"
        label = row.cell.label + (" (baseline)" if row.is_baseline else "")
        c = row.cell
        paper_md.append([label, *entries, " ".join(x for x in (
            fmt(c.score), fmt_interval(c.score_low, c.score_high, c.score_reliable, value=c.score),
            c.verdict if c.verdict in ("better", "worse", "tied") else "") if x)])
    board_md = [[c.rank_range, c.group or "-", c.label, f"`{c.fingerprint[:12]}`",
                 c.origin or "-", c.family, fmt(c.params), c.trials,
                 f"{c.failed} (+{c.stopped} stopped)" if c.stopped else c.failed,
                 " ".join(x for x in (fmt(c.score), fmt_interval(
                     c.score_low, c.score_high, c.score_reliable, value=c.score)) if x),
                 c.verdict or "-",
                 *[fmt(c.tasks[t].best) if t in c.tasks else "-" for t in tasks]]
                for c in ctx["board"]]
    ctx.update(
        md_table=_md_table,
        runs_rows=[[r.label, r.strategy, f"`{r.source}`", r.trials, r.skipped,
                    ", ".join(r.tasks) or "-"] for r in report.runs],
        paper_header=["cell", *[f"{t.task} ({t.metric}, {'↑' if t.mode == 'max' else '↓'}"
                                f"{'' if t.scored else ', not scored'})" for t in report.tasks],
                      "score"],
        paper_md=paper_md,
        board_header=["rank", "tied group", "cell", "fingerprint", "origin", "family", "params",
                      "trials", "failed", "score [95%]", "verdict", *tasks],
        noise_md=[[n.cell, n.task, n.settings, n.repeated, fmt(n.seed_sd), fmt(n.hparam_sd)]
                  for n in ctx["noise"]],
        board_md=board_md,
        importance_md=[[family, n, *[f"{fmt(fx[h].importance, 2)} "
                                     f"{fmt_interval(fx[h].low, fx[h].high)} "
                                     f"(best {fx[h].best_level})"
                                     if h in fx else "-" for h in ctx["imp_hparams"]]]
                       for family, n, fx in ctx["imp_rows"]],
        failures_md=[[f"`{f.reason}`", f.count, ", ".join(f.cells[:6]) + (
            f" and {len(f.cells) - 6} more" if len(f.cells) > 6 else ""), ", ".join(f.tasks),
            " ".join(f.trials[:3])] for f in report.failures],
    )
    return _env(False).get_template("report.md.j2").render(**ctx)
