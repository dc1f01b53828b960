"""Every figure's titles and legends lie inside its canvas, for a small and a wide run.

Checked twice: on the matplotlib figure (the window extents of the suptitle,
the axes titles, the axis labels and the legends after a draw, against
`fig.bbox`; legends must not cover a title), and on the PNG files the report
writes (no ink within a few pixels of the left or right edge in the top band,
where a title cut off by the edge would show).
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from archsearch.genome import zoo
from archsearch.report import load_runs, summarize
from archsearch.report.figures import FIGURES, render_figures

sys.path.insert(0, str(Path(__file__).parent))
from report_synthetic import normal_scores, write_scores  # noqa: E402

EDGE_PX = 5          # no title ink this close to the left or right edge of a PNG
TITLE_BAND = 0.08    # the top share of a PNG's rows, where the titles are
INK = 235            # a pixel with a channel below this is ink (the background is white)
WIDE_TASKS = ("arithmetic", "xml", "sentiment_classification_imdb",
              "penn_treebank_language_model")


def _quickstart(root: Path) -> list[Path]:
    """Like search_spaces/quickstart.yaml: five cells, one task, six seeds, one setting."""
    means = {"lstm": 0.39, "lstm_b": 0.44, "gru": 0.49, "lstm_f": 0.44, "tanh_rnn": 0.21}
    setting = {"learning_rate": 0.01, "init_scale": 1.0, "clip_norm": 5.0, "num_layers": 1}
    scores = {cell: {"arithmetic": normal_scores(m, 0.03, 6, k)}
              for k, (cell, m) in enumerate(means.items())}
    return [write_scores(root / "quickstart", scores, name="quickstart", hparams=[setting] * 6)]


def _small(root: Path, make_run) -> list[Path]:
    """One task, three cells and two mutants of an evolution run (one panel per figure)."""
    return [make_run(root / "small", name="small", strategy="evolution",
                     cells=("gru", "lstm", "lstm_b"), tasks=("arithmetic",), samples=8,
                     seeds=1, mutants=2, seed=3)]


def _wide(root: Path, make_run) -> list[Path]:
    """Every zoo cell on four tasks with long names, next to an evolution run with mutants."""
    evolution = make_run(root / "evolution", name="wide_evolution_with_a_long_run_name",
                         strategy="evolution",
                         cells=("gru", "lstm", "lstm_b", "lstm_f", "lstm_i", "lstm_o",
                                "tanh_rnn"), samples=4, seeds=1, mutants=12, seed=4)
    scores = {cell: {task: normal_scores(0.5 + 0.01 * k, 0.05, 4, 10 * k + j)
                     for j, task in enumerate(WIDE_TASKS)}
              for k, cell in enumerate(zoo.names())}
    return [evolution, write_scores(root / "fixed", scores, name="wide_fixed_study")]


@pytest.fixture(scope="module")
def reports(tmp_path_factory, run_writer):
    """Run name -> its `Report` (built once per module)."""
    write_run = run_writer
    root = tmp_path_factory.mktemp("fit_runs")
    sources = {"quickstart": _quickstart(root), "small": _small(root, write_run),
               "wide": _wide(root, write_run)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: summarize(load_runs(runs)) for name, runs in sources.items()}


def _drawn(report):
    """(spec, figure) for every figure the report draws (plots that return a figure)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for spec in FIGURES:
            fig = spec.plot(report)
            if not isinstance(fig, str):
                yield spec, fig


def _texts(fig):
    """(name, artist) for the suptitle, every axes title and axis label, and every legend."""
    found = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        found.append(("suptitle", fig._suptitle))
    found += [("figure legend", legend) for legend in fig.legends]
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        for loc in ("center", "left", "right"):
            title = {"center": ax.title, "left": ax._left_title, "right": ax._right_title}[loc]
            if title.get_text():
                found.append((f"axes {k} title", title))
        for axis in (ax.xaxis, ax.yaxis):
            if axis.label.get_text() and axis.label.get_visible():
                found.append((f"axes {k} {axis.axis_name}label", axis.label))
        if ax.get_legend() is not None:
            found.append((f"axes {k} legend", ax.get_legend()))
    return found


def _box(box) -> str:
    return f"[x {box.x0:.0f}..{box.x1:.0f}, y {box.y0:.0f}..{box.y1:.0f}]"


def _problems(fig) -> list[str]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    bounds = fig.bbox
    problems = []
    texts = [(name, artist, artist.get_window_extent(renderer)) for name, artist in _texts(fig)]
    for name, _, box in texts:
        if (box.x0 < bounds.x0 - 0.5 or box.x1 > bounds.x1 + 0.5
                or box.y0 < bounds.y0 - 0.5 or box.y1 > bounds.y1 + 0.5):
            problems.append(f"{name} {_box(box)} outside the figure {_box(bounds)}")
    for name, _, box in texts:
        if "legend" not in name:
            continue
        for other, _, title in texts:
            if "title" in other and box.overlaps(title):
                problems.append(f"{name} {_box(box)} covers the {other} {_box(title)}")
    return problems


@pytest.mark.parametrize("run", ["quickstart", "small", "wide"])
def test_titles_and_legends_lie_inside_the_figure(reports, run):
    report = reports[run]
    problems, drawn = [], []
    for spec, fig in _drawn(report):
        drawn.append(spec.key)
        problems += [f"{spec.file}: {p}" for p in _problems(fig)]
    assert drawn, f"the {run} run draws no figure"
    assert not problems, "\n".join(problems)


def test_the_wide_run_draws_every_figure(reports):
    drawn = {spec.key for spec, _ in _drawn(reports["wide"])}
    assert drawn == {spec.key for spec in FIGURES}
    assert len(reports["wide"].tasks) == len(WIDE_TASKS)


def _edge_ink(path: Path) -> str | None:
    from matplotlib.image import imread

    pixels = imread(path)[..., :3]
    if pixels.dtype != np.uint8:
        pixels = np.round(pixels * 255)
    band = pixels[: max(1, int(round(TITLE_BAND * pixels.shape[0])))]
    for side, strip in (("left", band[:, :EDGE_PX]), ("right", band[:, -EDGE_PX:])):
        ink = (strip.min(axis=2) < INK).sum()
        if ink:
            return f"{path.name}: {ink} ink pixels within {EDGE_PX} px of the {side} edge " \
                   f"in the top {TITLE_BAND:.0%}"
    return None


@pytest.mark.parametrize("run", ["quickstart", "small", "wide"])
def test_written_pngs_have_no_ink_at_the_edges_of_the_title_band(reports, run, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rendered = render_figures(reports[run], tmp_path)
    written = [tmp_path / Path(f.path).name for f in rendered.values() if f.path]
    assert written
    problems = [p for p in map(_edge_ink, written) if p]
    assert not problems, "\n".join(problems)


def test_the_edge_check_sees_a_cut_off_title(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    fig.suptitle("a title far too long for a figure three inches wide, cut off at both edges")
    fig.savefig(tmp_path / "cut.png", dpi=110, facecolor="white")
    assert _edge_ink(tmp_path / "cut.png") is not None
    assert _problems(fig)
