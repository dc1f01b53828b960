"""The `archsearch` command line.

Bad input (a malformed genome file, an unknown cell, bad arguments) prints one
line naming the file or field and what was expected, and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archsearch.genome import Genome, GenomeError, zoo

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def load_cell(ref: str) -> Genome:
    """Returns the genome named `ref` in the zoo, or read from the JSON file `ref`."""
    if ref in zoo.names():
        return zoo.get(ref)
    path = Path(ref)
    if path.suffix.lower() == ".json" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CliError(f"{ref}: no such file (expected a zoo cell name or a genome "
                           f"JSON file)") from None
        except (OSError, UnicodeDecodeError) as err:
            raise CliError(f"{ref}: cannot read: {err}") from None
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


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser of the `archsearch` command."""
    parser = argparse.ArgumentParser(
        prog="archsearch",
        description="Architecture search for gated recurrent cells on Keras 3.")
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cells = commands.add_parser("cells", help="list, show and mutate cells",
                                description="Inspect the zoo and genome JSON files.")
    cell_commands = cells.add_subparsers(dest="cells_command", required=True,
                                         metavar="SUBCOMMAND")
    listing = cell_commands.add_parser("list", help="the zoo: name, description, parameters")
    listing.add_argument("--units", type=_positive, default=128,
                         help="units for the parameter count (default: 128)")
    listing.add_argument("--input-width", type=_positive, default=128,
                         help="input width for the parameter count (default: 128)")
    listing.add_argument("--width", type=_positive, default=None,
                         help="terminal width for the table")
    listing.set_defaults(handler=_cells_list)
    show = cell_commands.add_parser("show", help="equations, fingerprint and JSON of a cell")
    show.add_argument("cell", metavar="NAME_OR_JSON", help="zoo cell name or genome JSON file")
    show.add_argument("--units", type=_positive, default=128)
    show.add_argument("--input-width", type=_positive, default=128)
    show.set_defaults(handler=_cells_show)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as err:
        print(f"archsearch: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `archsearch cells show lstm | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("archsearch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
