"""Makes the genome test helpers (`shapes`, `corpus`) importable by name.

The suite runs in pytest's importlib mode, which puts no test folder on
`sys.path`; the helpers are plain modules next to the tests that use them.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
