"""The `archsearch` command line.

Bad input (a malformed genome or space file, an unknown cell, a path that is
a special file, an unknown URI scheme or an unwritable directory, bad
arguments) prints one line naming the file, key or argument and what was
expected, exits with code 2, and writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shlex
import stat
import sys
import warnings
from pathlib import Path

from archsearch.genome import Genome, GenomeError, zoo
from archsearch.genome.limits import MAX_JSON_CHARS
from archsearch.space.files import FileRefused, read_text
from archsearch.space.limits import MAX_CPUS, MAX_SEED, MAX_TRIALS, MAX_UNITS

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: URI schemes pyarrow's filesystems open (fsspec's are added when it is installed).
PYARROW_SCHEMES = ("file", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss")
#: Known schemes that cannot hold a run directory or a report (read-only or archives).
READ_ONLY_SCHEMES = ("http", "https", "github", "gist", "git", "zip", "tar", "libarchive",
                     "data", "reference", "hf", "jupyter", "jlab", "dvc", "wandb")
#: Where no run directory, report or input file may be.
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (`archsearch search: error: ...`), exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)} (see "
                              f"{self.prog} --help)\n")


def _one_line(text: str) -> str:
    """`text` with line breaks and control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _known_schemes() -> set[str]:
    schemes = set(PYARROW_SCHEMES)
    with contextlib.suppress(ImportError):
        from fsspec.registry import known_implementations

        schemes.update(known_implementations)
    return schemes


def check_location(location: str, what: str, *, writable: bool, must_exist: bool = False) -> None:
    """Checks a directory argument before anything reads or writes it.

    Args:
        location: A local path, `file://` path or storage URI.
        what: The argument, for messages (e.g. `--run-dir`).
        writable: Whether it will be written (then it must be a directory
            or creatable, and writable).
        must_exist: Whether it must already exist.

    Raises:
        CliError: an unknown URI scheme, a path under /proc, /sys or /dev, a
            file or special file, a missing or unwritable directory.
    """
    if not location or "\0" in location:
        raise CliError(f"{what}: expected a directory path or URI. Received: {location!r}")
    if "://" in location and not location.startswith("file://"):
        scheme = location.split("://", 1)[0].lower()
        if scheme not in _known_schemes():
            raise CliError(f"{what} {location!r}: unknown URI scheme {scheme!r}; expected a "
                           f"local path, file:// or a scheme fsspec/pyarrow open "
                           f"(s3://, gs://, hdfs://, ...)")
        if writable and scheme in READ_ONLY_SCHEMES:
            raise CliError(f"{what} {location!r}: {scheme}:// cannot be written; expected a "
                           f"local path or a writable storage URI (s3://, gs://, ...)")
        return
    path = Path(location.removeprefix("file://")).expanduser()
    real = Path(os.path.realpath(path))
    if any(real == Path(root) or Path(root) in real.parents for root in PSEUDO_ROOTS):
        raise CliError(f"{what} {location!r}: is under {real.parts[0]}{real.parts[1]} "
                       f"(kernel or device files); expected a directory of your own")
    try:
        info = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as err:
        raise CliError(f"{what} {location!r}: cannot access: {err.strerror or err}") from None
    if info is None:
        if must_exist:
            raise CliError(f"{what} {location!r}: no such directory")
        parent = next((p for p in real.parents if os.path.lexists(p)), Path("/"))
        if not parent.is_dir():
            raise CliError(f"{what} {location!r}: {str(parent)!r} is not a directory; "
                           f"expected a directory path")
        if writable and not os.access(parent, os.W_OK | os.X_OK):
            raise CliError(f"{what} {location!r}: cannot create it: {str(parent)!r} is not "
                           f"writable")
        return
    if not stat.S_ISDIR(info.st_mode):
        raise CliError(f"{what} {location!r}: is {_file_kind(info.st_mode)}; expected a "
                       f"directory")
    if writable and not os.access(real, os.W_OK | os.X_OK):
        raise CliError(f"{what} {location!r}: directory is not writable (read-only or "
                       f"immutable)")
    if not os.access(real, os.R_OK | os.X_OK):
        raise CliError(f"{what} {location!r}: directory is not readable")


def _file_kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a file"
    return {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}.get(
                stat.S_IFMT(mode), "not a directory")


def load_cell(ref: str) -> Genome:
    """Returns the genome named `ref` in the zoo, or read from the JSON file `ref`."""
    if ref in zoo.names():
        return zoo.get(ref)
    path = Path(ref)
    if path.suffix.lower() == ".json" or os.path.lexists(path):
        try:  # up to 4 bytes per character: the genome parser enforces its own limit
            text = read_text(path, limit=4 * MAX_JSON_CHARS,
                             what=f"genome JSON file (MAX_JSON_CHARS={MAX_JSON_CHARS:,})")
        except FileRefused as err:
            raise CliError(str(err).replace(
                f"(expected a genome JSON file (MAX_JSON_CHARS={MAX_JSON_CHARS:,}))",
                "(expected a zoo cell name or a genome JSON file)")) from None
        try:
            return Genome.from_json(text)
        except GenomeError as err:
            raise CliError(f"{ref}: {err}") from None
    raise CliError(f"{ref!r} is neither a zoo cell ({', '.join(zoo.names())}) nor a "
                   f"genome JSON file")


def _cells_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Zoo cells (parameters at units={args.units}, input width "
                        f"{args.input_width})")
    for column in ("name", "states", "params", "description"):
        table.add_column(column, justify="right" if column == "params" else "left")
    for entry in zoo.entries():
        g = entry.genome
        units = args.units
        width = units if g.needs_square_input else args.input_width
        params = f"{g.parameter_count(width, units):,}"
        table.add_row(entry.name, ",".join(g.states), params, entry.description)
    Console(width=args.width).print(table)
    return 0


def _cells_show(args) -> int:
    genome = load_cell(args.cell)
    print(f"# {genome.name or args.cell}")
    if genome.description:
        print(genome.description)
    if genome.name in zoo.names():
        print(f"source: {zoo.entry(genome.name).source}")
    print()
    print(genome.equations())
    print()
    print(f"fingerprint: {genome.fingerprint()}")
    width = args.units if genome.needs_square_input else args.input_width
    print(f"parameters:  {genome.parameter_count(width, args.units):,} (units={args.units}, "
          f"input width {width})")
    if genome.needs_square_input:
        print(f"note:        {genome.square_input_reasons[0]}; input width must equal units")
    print()
    print(genome.to_json(), end="")
    return 0


def _cells_mutate(args) -> int:
    from archsearch.genome.mutate import Mutator

    parent = load_cell(args.cell)
    mutator = _load_space(args.space).mutator() if args.space is not None else Mutator()
    label = parent.name or args.cell
    print(f"# parent: {label}  fingerprint {parent.fingerprint()}  ({len(parent.nodes)} nodes)")
    for k in range(args.n):
        seed = args.seed + k
        try:
            result = mutator.run(parent, seed)
        except GenomeError as err:
            raise CliError(f"{args.cell}: {err}") from None
        child = result.child
        print()
        print(f"## child {k + 1} of {args.n}: seed {seed}, p={result.p:.3f}, "
              f"{result.attempts} attempt{'s' if result.attempts > 1 else ''}, "
              f"{len(child.nodes)} nodes")
        for name, what in result.fired:
            print(f"   {name}: {what}")
        print(child.equations())
        print(f"fingerprint: {child.fingerprint()}")
        if child.needs_square_input:
            print(f"note:        {child.square_input_reasons[0]}; input width must equal units")
        if args.json:
            print(child.to_json(), end="")
    return 0


def _cells_export(args) -> int:
    from archsearch.results import ResultsError, export_cell
    from archsearch.rundir import RunDirError

    check_location(args.run_dir, "run directory", writable=False, must_exist=True)
    try:
        cell = export_cell(args.run_dir, args.key, args.out)
    except (ResultsError, RunDirError) as err:
        raise CliError(str(err)) from None
    print(f"{args.out}: rank {cell.rank} {cell.name} ({cell.fingerprint}"
          + (f", score {cell.score:.3f}" if cell.score is not None else "") + ")")
    return 0


def _load_space(path: str):
    from archsearch.space import SearchSpaceError, load_search_space

    try:
        return load_search_space(path)
    except SearchSpaceError as err:
        raise CliError(str(err)) from None


def _spaces_check(args) -> int:
    space = _load_space(args.space)
    print(space.summary())
    print(f"ok: {args.space} is a valid search space")
    return 0


def _tasks_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from archsearch import tasks

    table = Table(title="Tasks")
    for column in ("name", "kind", "source", "size", "metric"):
        table.add_column(column)
    for row in tasks.describe():
        table.add_row(*(str(row[c]) for c in ("name", "kind", "source", "size", "metric")))
    Console(width=args.width).print(table)
    return 0


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hides what C++ libraries print on fd 2 while TensorFlow starts (CUDA probes)."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _check_address(address: str | None) -> None:
    """`--address` must be `auto`, `local`, `HOST:PORT` or `ray://HOST:PORT`."""
    if address is None or address in ("auto", "local"):
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    ok = sep and host and port.isdigit() and 0 < int(port) < 65536 and \
        all(c.isalnum() or c in ".-_[]:" for c in host)
    if not ok:
        raise CliError(f"--address: expected auto, local, HOST:PORT or ray://HOST:PORT of a Ray "
                       f"cluster. Received: {address!r}")


def _check_shared(location: str) -> None:
    """A search's run directory must be storage Ray's workers and Tune can open too."""
    if "://" not in location or location.startswith("file://"):
        return
    scheme = location.split("://", 1)[0].lower()
    if scheme not in PYARROW_SCHEMES:
        raise CliError(f"--run-dir {location!r}: {scheme}:// cannot hold a search: Ray's workers "
                       f"(other processes, other machines) and Ray Tune must open it too; use a "
                       f"local path, or shared storage such as "
                       f"{', '.join(s + '://' for s in PYARROW_SCHEMES[1:4])}")


def _check_not_foreign(location: str) -> None:
    """Fails fast (before Ray and TensorFlow load) on a local non-empty non-run directory."""
    if "://" in location and not location.startswith("file://"):
        return  # checked by open_run once the storage is open
    from archsearch.rundir import LEASE_FILE, RunStore  # a lease: a driver starting up

    path = Path(os.path.realpath(Path(location.removeprefix("file://")).expanduser()))
    if path.is_dir() and not (path / "run.json").exists() and \
            not RunStore(str(path)).is_unused(ignore=(LEASE_FILE,)):
        raise CliError(f"{path}: exists and is not an archsearch run directory (no run.json); "
                       f"choose an empty or new --run-dir")


def _resume_command(args) -> str:
    """The `archsearch search ...` command line that resumes this search."""
    words = ["archsearch", "search", args.space, "--run-dir", args.run_dir]
    for flag, value in (("--address", args.address), ("--max-trials", args.max_trials),
                        ("--workers", args.workers), ("--seed", args.seed),
                        ("--cpus-per-trial", args.cpus_per_trial),
                        ("--gpus-per-trial", args.gpus_per_trial)):
        if value is not None:
            words += [flag, str(value)]
    words += [flag for flag, on in (("--no-progress", args.no_progress),
                                    ("--simulate", args.simulate)) if on]
    return " ".join(shlex.quote(w) for w in words)


def _already_finished(space, storage, workers) -> int | None:
    """Trials recorded if the run in `storage` has nothing left to run, else `None`."""
    from archsearch.search.executor import make_oracle

    oracle = make_oracle(space, workers=workers)
    oracle.storage = storage
    if not oracle.reload() or not oracle.trials or oracle.ongoing_trials:
        return None
    done = (oracle.remaining_trials() or 0) <= 0 or (
        not space.strategy.searches and not oracle.queue and not oracle.in_flight())
    return len(oracle.trials) if done else None


def _search(args) -> int:
    space = _load_space(args.space)
    check_location(args.run_dir, "--run-dir", writable=True)
    _check_address(args.address)
    _check_shared(args.run_dir)
    _check_not_foreign(args.run_dir)
    from archsearch.compat.driver_keras import load_keras_for_driver

    with _native_stderr_silenced():  # Keras' start-up, quietly
        load_keras_for_driver()  # the driver never trains: no TensorFlow in it
    from archsearch.search import RunDirError
    from archsearch.search.executor import (
        ResourceError,
        run_search,
        storage_message,
        with_overrides,
    )

    checked = with_overrides(space, seed=args.seed, max_trials=args.max_trials,
                             cpus_per_trial=args.cpus_per_trial,
                             gpus_per_trial=args.gpus_per_trial)
    if _nothing_to_run(args, checked):
        return 0
    print(checked.summary(), file=sys.stderr)
    resume = _resume_command(args)
    try:
        summary = run_search(space, args.run_dir, max_trials=args.max_trials, seed=args.seed,
                             **_ray_options(args))
    except (RunDirError, ResourceError) as err:
        raise CliError(str(err)) from None
    except OSError as err:  # storage failed outside the Tune loop (creating the run, the lease)
        raise CliError(storage_message(args.run_dir, err)) from None
    except KeyboardInterrupt:
        print(f"archsearch: interrupted; finished trials are kept. Resume with: {resume}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except ConnectionError as err:  # ray.init found no cluster at --address / RAY_ADDRESS
        where = args.address or os.environ.get("RAY_ADDRESS") or "the local Ray"
        raise CliError(f"cannot connect to Ray at {where}: {str(err).splitlines()[0]}") \
            from None
    _print_summary(summary, space, resume)
    return 0 if summary.finished else EXIT_INTERRUPTED


def _ray_options(args) -> dict:
    """The keyword arguments of `run_search` / `run_confirm` from `_add_ray_arguments`' flags."""
    return dict(address=args.address, workers=args.workers, progress=not args.no_progress,
                force=args.force, simulate=args.simulate, cpus_per_trial=args.cpus_per_trial,
                gpus_per_trial=args.gpus_per_trial, pending_timeout=args.pending_timeout,
                say=lambda line: print(line, file=sys.stderr))


def _nothing_to_run(args, checked) -> bool:
    """Checks the run directory (writes nothing); says so if the search already finished."""
    from archsearch.rundir import RunDirError, compact
    from archsearch.search.run_setup import open_run

    try:
        storage, resumed = open_run(checked, args.run_dir, checked.strategy.name,
                                    create=False)
        # A space with a confirmation stage resumes it even after the search finished.
        finished = _already_finished(checked, storage, args.workers) \
            if resumed and checked.confirm is None else None
    except RunDirError as err:
        raise CliError(str(err)) from None
    except (OSError, ValueError, ImportError) as err:  # storage that cannot be opened
        raise CliError(f"--run-dir {args.run_dir!r}: cannot open: "
                       f"{_one_line(err).splitlines()[0] if str(err) else type(err).__name__}"
                       ) from None
    if finished is None:
        return False
    print(f"search already finished: {finished} trials recorded in {storage.uri}; "
          f"nothing to run (raise --max-trials to run more)")
    with contextlib.suppress(Exception):  # a damaged index is rebuilt, as a resume would
        compact(storage)
    print(f"next: archsearch report {shlex.quote(storage.uri)} --out "
          f"{shlex.quote('reports/' + (checked.name or 'run'))}")
    return True


def _print_summary(summary, space, resume: str) -> None:
    """How a search call ended, its highest raw scores and the next command."""
    state = "finished" if summary.finished else f"stopped; resume with: {resume}"
    print(f"search {state}: {summary.trials} trials recorded ({summary.failed} failed) in "
          f"{summary.run_dir}; this call ran {summary.seconds:.0f} s"
          f"{' (resumed)' if summary.resumed else ''}")
    if summary.best:
        # Raw best-of-n scores, not a verdict: the report says which gaps are real.
        print("highest scores so far (min ratio to the baseline's best; not yet tested for "
              "noise):")
    for cell in summary.best:
        print(f"  {cell['cell']:<20} {cell['score']:.3f}")
    if summary.confirmed:
        print(f"confirmation: {summary.confirmed} trial(s) retrained the best cells on fresh "
              f"seeds (the report's Confirmed table)")
    print(f"next: archsearch report {shlex.quote(summary.run_dir)} --out "
          f"{shlex.quote('reports/' + (space.name or 'run'))} "
          f"(intervals, verdicts and findings)")


def _confirm(args) -> int:
    check_location(args.run_dir, "run directory", writable=True, must_exist=True)
    _check_address(args.address)
    _check_shared(args.run_dir)
    from archsearch.compat.driver_keras import load_keras_for_driver

    with _native_stderr_silenced():
        load_keras_for_driver()  # the driver never trains: no TensorFlow in it
    from archsearch.rundir import RunDirError, RunStore
    from archsearch.search.executor import ResourceError, run_confirm, storage_message
    from archsearch.search.run_setup import space_from_run

    try:
        space = _load_space(args.space) if args.space else space_from_run(RunStore(args.run_dir))
        ran = run_confirm(space, args.run_dir, top=args.top, seeds=args.seeds,
                          **_ray_options(args))
    except (RunDirError, ResourceError) as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(storage_message(args.run_dir, err)) from None
    except KeyboardInterrupt:
        print("archsearch: interrupted; recorded confirmation trials are kept. Rerun the same "
              "command to go on.", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"confirmation finished: {ran} trial(s) run in {args.run_dir}")
    print(f"next: archsearch report {shlex.quote(args.run_dir)} --out "
          f"{shlex.quote('reports/' + (space.name or 'run'))}")
    return 0


def _report(args) -> int:
    import warnings

    from archsearch.report import ReportOutputError, RunDirError, load_runs, summarize, write_report

    for run_dir in args.run_dirs:
        check_location(run_dir, "run directory", writable=False, must_exist=True)
    check_location(args.out, "--out", writable=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # printed below, once each
        try:
            runs = load_runs(args.run_dirs, curves=True)
        except RunDirError as err:
            raise CliError(str(err)) from None
        report = summarize(runs, baseline=args.baseline, top=args.top, title=args.title)
        try:
            out = write_report(report, args.out, figures=not args.no_figures)
        except ReportOutputError as err:
            raise CliError(str(err)) from None
    late = [str(w.message) for w in caught if str(w.message) not in report.warnings
            and issubclass(w.category, UserWarning)]
    for line in (*report.warnings, *dict.fromkeys(late)):
        print(f"archsearch: warning: {line}", file=sys.stderr)
    trials = len(report.trials)
    failed = int((report.trials.status == "failed").sum()) if trials else 0
    top = report.cells[0] if report.cells else None
    best = (f"; top cell {top.label}" + (f" (score {top.score:.3f})" if top.score is not None
                                         else "")) if top else ""
    print(f"report: {out / 'index.html'} ({len(report.runs)} run(s), {trials} trials, "
          f"{failed} failed, {len(report.cells)} cells{best}; "
          f"{len(report.warnings) + len(set(late))} warning(s))")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser of the `archsearch` command."""
    parser = _Parser(
        prog="archsearch",
        description="Architecture search for gated recurrent cells on Keras 3.")
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for add in (_add_cells, _add_spaces, _add_search, _add_confirm, _add_report, _add_tasks):
        add(commands)
    return parser


def _add_cells(commands) -> None:
    """Adds `archsearch cells list|show|mutate|export`."""
    cells = commands.add_parser("cells", help="list, show and mutate cells",
                                description="Inspect the zoo and genome JSON files.")
    cell_commands = cells.add_subparsers(dest="cells_command", required=True,
                                         metavar="SUBCOMMAND")
    listing = cell_commands.add_parser("list", help="the zoo: name, description, parameters")
    listing.add_argument("--units", type=_units, default=128,
                         help="units for the parameter count (default: 128)")
    listing.add_argument("--input-width", type=_units, default=128,
                         help="input width for the parameter count (default: 128)")
    listing.add_argument("--width", type=_width, default=None,
                         help="terminal width for the table")
    listing.set_defaults(handler=_cells_list)
    show = cell_commands.add_parser("show", help="equations, fingerprint and JSON of a cell")
    show.add_argument("cell", metavar="NAME_OR_JSON", help="zoo cell name or genome JSON file")
    show.add_argument("--units", type=_units, default=128)
    show.add_argument("--input-width", type=_units, default=128)
    show.set_defaults(handler=_cells_show)
    mutate = cell_commands.add_parser(
        "mutate", help="mutate a cell: equations, fingerprint and operators of each child",
        description="Mutates a cell with the paper's transformations, deterministically by "
                    "seed (child k uses seed S+k).")
    mutate.add_argument("cell", metavar="NAME_OR_JSON", help="zoo cell name or genome JSON file")
    mutate.add_argument("--seed", type=_non_negative, required=True, metavar="S",
                        help="seed of the first child")
    mutate.add_argument("-n", type=_count, default=1, metavar="N",
                        help="number of children (default: 1)")
    mutate.add_argument("--space", metavar="SPACE.yaml", default=None,
                        help="use this search space's mutation settings (default: the paper's)")
    mutate.add_argument("--json", action="store_true", help="also print each child's JSON")
    mutate.set_defaults(handler=_cells_mutate)
    export = cell_commands.add_parser(
        "export", help="write a cell a search found to a genome JSON file",
        description="Writes the genome of a run's cell, by its rank in the report's "
                    "leaderboard (1 = best) or a fingerprint prefix (6+ hex digits), to --out; "
                    "load it with archsearch.Genome.from_json or pass it to `cells show`.")
    export.add_argument("run_dir", metavar="RUN_DIR", help="run directory (path or URI)")
    export.add_argument("key", metavar="RANK_OR_FINGERPRINT",
                        help="1-based rank, or a fingerprint prefix")
    export.add_argument("--out", required=True, metavar="FILE", help="genome JSON to write")
    export.set_defaults(handler=_cells_export)


def _add_spaces(commands) -> None:
    """Adds `archsearch spaces check`."""
    spaces = commands.add_parser("spaces", help="check search-space files",
                                 description="Validate search-space YAML files.")
    space_commands = spaces.add_subparsers(dest="spaces_command", required=True,
                                           metavar="SUBCOMMAND")
    check = space_commands.add_parser("check", help="validate a space and print a summary")
    check.add_argument("space", metavar="SPACE.yaml", help="search-space YAML file")
    check.set_defaults(handler=_spaces_check)


def _add_ray_arguments(parser) -> None:
    """Where and how trials run: shared by `search` and `confirm`."""
    parser.add_argument("--address", default=None, metavar="ADDR",
                        help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    parser.add_argument("--workers", type=_count, default=None, metavar="N",
                        help="trials at once (default: as many as Ray's CPUs/GPUs allow)")
    parser.add_argument("--cpus-per-trial", type=_cpus, default=None, metavar="C",
                        help="override resources.cpus: CPUs one trial reserves (fractions "
                             "allowed; recorded in run.json, may change on resume)")
    parser.add_argument("--gpus-per-trial", type=_gpus, default=None, metavar="G",
                        help="override resources.gpu: fraction of a GPU one trial reserves, in "
                             "[0, 1] (0: train on CPUs)")
    parser.add_argument("--pending-timeout", type=_seconds, default=900.0, metavar="SECONDS",
                        help="on an autoscaling cluster, how long to wait for a node that can "
                             "hold one trial before giving up (default: 900)")
    parser.add_argument("--no-progress", action="store_true", help="no live progress view")
    parser.add_argument("--force", action="store_true",
                        help="take over a run directory's lease held by another driver")
    parser.add_argument("--simulate", action="store_true",
                        help="score trials with a deterministic instant simulator instead of "
                             "training (to size a search or test at scale); records are "
                             "marked simulated")


def _add_search(commands) -> None:
    """Adds `archsearch search`."""
    search = commands.add_parser(
        "search", help="run (or resume) a search on Ray",
        description="Runs the search described by SPACE.yaml on a local Ray (default) or a "
                    "Ray cluster, recording every trial in --run-dir. Rerun the same command "
                    "to resume after a crash or Ctrl-C: finished trials are kept, not rerun.")
    search.add_argument("space", metavar="SPACE.yaml", help="search-space YAML file")
    search.add_argument("--run-dir", required=True, metavar="DIR",
                        help="run directory: local path or storage URI (shared storage on a "
                             "multi-node cluster)")
    search.add_argument("--max-trials", type=_positive, default=None, metavar="N",
                        help="override the space's max_trials")
    search.add_argument("--seed", type=_non_negative, default=None, metavar="S",
                        help="override the space's seed")
    _add_ray_arguments(search)
    search.set_defaults(handler=_search)


def _add_confirm(commands) -> None:
    """Adds `archsearch confirm`."""
    confirm = commands.add_parser(
        "confirm", help="retrain a run's best cells on fresh seeds (confirmation)",
        description="Retrains the --top best distinct cells of RUN_DIR by search score, plus "
                    "the baseline and the seed cells as controls, with --seeds seeds no search "
                    "trial used, on every scoring task, with the hyperparameters each won "
                    "with. Trials are recorded with phase 'confirm'; the report's Confirmed "
                    "table reads their test-split numbers. Rerun to resume.")
    confirm.add_argument("run_dir", metavar="RUN_DIR", help="run directory (path or URI)")
    confirm.add_argument("--top", type=_count, default=None, metavar="K",
                         help="cells to confirm (default: the space's confirm.top, else 5)")
    confirm.add_argument("--seeds", type=_integer(2, 100), default=None, metavar="N",
                         help="fresh seeds per cell and task (default: the space's "
                              "confirm.seeds, else 5)")
    confirm.add_argument("--space", default=None, metavar="SPACE.yaml",
                         help="the run's space file (default: rebuilt from run.json)")
    _add_ray_arguments(confirm)
    confirm.set_defaults(handler=_confirm)


def _add_report(commands) -> None:
    """Adds `archsearch report`."""
    report = commands.add_parser(
        "report", help="compare cells across run directories: HTML, Markdown, CSV, figures",
        description="Reads one or more run directories (local paths or storage URIs; a "
                    "search still running is reported as far as it got) and writes "
                    "index.html, report.md, leaderboard.csv, figures/ and the top genomes "
                    "to --out.")
    report.add_argument("run_dirs", nargs="+", metavar="DIR", help="run directory")
    report.add_argument("--out", required=True, metavar="reports/NAME",
                        help="output folder (an existing report there is replaced)")
    report.add_argument("--baseline", default=None, metavar="CELL",
                        help="cell the ratios refer to (default: the runs' baseline, else gru)")
    report.add_argument("--top", type=_count, default=5, metavar="N",
                        help="top cells that get a card and an exported genome (default: 5)")
    report.add_argument("--title", default=None, help="report title")
    report.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    report.set_defaults(handler=_report)


def _add_tasks(commands) -> None:
    """Adds `archsearch tasks list`."""
    task_parser = commands.add_parser("tasks", help="list the tasks",
                                      description="Tasks cells are trained on.")
    task_commands = task_parser.add_subparsers(dest="tasks_command", required=True,
                                               metavar="SUBCOMMAND")
    task_list = task_commands.add_parser("list", help="name, kind, data source, size, metric")
    task_list.add_argument("--width", type=_width, default=None,
                           help="terminal width for the table")
    task_list.set_defaults(handler=_tasks_list)


def _integer(minimum: int, maximum: int):
    """An argparse type: an integer in [minimum, maximum], named in the error."""
    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected an integer in [{minimum}, {maximum:,}]. "
                                             f"Received: {_one_line(text[:40])!r}")
        return value
    parse.__name__ = "integer"  # argparse names the type in some messages
    return parse


def _number(minimum: float, maximum: float, *, open_low: bool = False, what: str = "a number"):
    """An argparse type: a finite number in [minimum, maximum] (or (minimum, ...])."""
    def parse(text: str) -> float:
        try:
            value = float(text) if len(text) <= 30 else None
        except ValueError:
            value = None
        low_ok = value is not None and (value > minimum if open_low else value >= minimum)
        if value is None or not math.isfinite(value) or not low_ok or value > maximum:
            bracket = "(" if open_low else "["
            raise argparse.ArgumentTypeError(
                f"expected {what} in {bracket}{minimum:g}, {maximum:g}]. "
                f"Received: {_one_line(text[:40])!r}")
        return value
    parse.__name__ = "number"
    return parse


_cpus = _number(0, MAX_CPUS, open_low=True, what="CPUs per trial")
_gpus = _number(0, 1, what="a fraction of one GPU")
_seconds = _number(0, 7 * 24 * 3600, what="seconds")
_positive = _integer(1, MAX_TRIALS)
_non_negative = _integer(0, MAX_SEED)
_units = _integer(1, MAX_UNITS)
_width = _integer(20, 10_000)
_count = _integer(1, 10_000)


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    # TensorFlow's C++ start-up chatter is not for the user of a command line.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # A warning is one line for the user, not a source line of archsearch.
    warnings.formatwarning = lambda message, category, *rest, **kw: (
        f"archsearch: warning: {_one_line(message)}\n")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as err:
        print(f"archsearch: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `archsearch cells show lstm | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("archsearch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
