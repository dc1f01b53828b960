"""Malformed search spaces, generated from one valid space that uses every key.

`malformed_spaces()` yields `(name, content, where)`: the file content (str or
bytes) and a string the one-line error must contain (a key path such as
`tasks[0].budget.steps`, or `:LINE:` for errors found while parsing YAML).
Cases come from three sources:

- every leaf of `BASE` replaced by values of the wrong type or out of range
  (booleans for integers, `.inf`/`.nan`, huge numbers, strings, lists);
- every mapping given an unknown key, required keys removed, lists emptied;
- hand-written YAML attacks (alias bombs, duplicate keys, deep nesting,
  5,000-digit integers, files over the size limit, non-UTF-8 bytes).
"""

from __future__ import annotations

import copy

import yaml

#: A valid space that sets (nearly) every key the schema has.
BASE = {
    "name": "adversarial",
    "description": "every key set",
    "seed": 3,
    "max_trials": 20,
    "baseline": "gru",
    "seed_cells": ["lstm", {"cell": "gru", "name": "gru_b", "params": {"z_pre": {"bias": 1.0}}}],
    "strategy": {"name": "evolution", "top_n": 10, "hyperparameter_samples": 2,
                 "reevaluate_probability": 0.5},
    "mutation": {"operators": {"change_activation": 1.0, "remove_node": 0.5},
                 "activations": ["tanh", "sigmoid"], "elementwise": ["mul", "add"],
                 "max_attempts": 50, "allow_square_input": False, "max_nodes": 40},
    "hyperparameters": {"init_scale": [1.0], "learning_rate": [0.5, 1.0], "clip_norm": [5.0],
                        "layers": [1], "units": [32], "forget_bias": [1.0], "dropout": [0.0],
                        "optimizer": ["sgd"]},
    "tasks": [
        {"name": "memorization", "role": "prefilter", "min_score": 0.9,
         "hyperparameter_samples": 1, "seeds": 2, "seq_len": 12,
         "budget": {"steps": 100, "seconds": 30.0, "batch_size": 16, "data_fraction": 0.5},
         "options": {"length": 5, "alphabet_size": 10, "num_examples": 1000}},
        {"name": "arithmetic", "min_ratio": 0.9, "budget": {"steps": 100},
         "options": {"max_digits": 3, "max_distractors": 1, "num_examples": 1000}},
        {"name": "xml", "budget": {"steps": 100},
         "options": {"stateful": True, "max_iterations": 10}},
    ],
    "resources": {"cpus": 1.0, "gpu": 0.0},
}
#: Keys a space cannot do without (removing one must fail).
REQUIRED = [("max_trials",), ("tasks",), ("strategy",), ("tasks", 0, "name"),
            ("tasks", 1, "budget"), ("strategy", "name"), ("seed_cells", 1, "cell")]
INF, NAN = float("inf"), float("nan")


def dump(data) -> str:
    """YAML text of `data` (block style, keys in order)."""
    return yaml.safe_dump(data, sort_keys=False)


def key_path(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for k, value in enumerate(data):
            yield from _leaves(value, (*path, k))
    else:
        yield path, data


def _mappings(data, path=()):
    if isinstance(data, dict):
        yield path
        for key, value in data.items():
            yield from _mappings(value, (*path, key))
    elif isinstance(data, list):
        for k, value in enumerate(data):
            yield from _mappings(value, (*path, k))


def _set(data, path, value):
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


_DELETE = object()


def _bad_values(value) -> list:
    """Values of the wrong type or out of every documented range for a leaf like `value`."""
    if isinstance(value, bool):
        return [1, "maybe", None, [True]]
    if isinstance(value, int):
        return [True, -1, "5", 1.5, INF, 10**40]
    if isinstance(value, float):
        return [True, INF, -INF, NAN, "1.0", 1e300]
    return [123, True, ["x"], {"a": 1}]


def malformed_spaces():
    """Yields `(name, content, where)` for every malformed space (see module docstring)."""
    for path, value in _leaves(BASE):
        for k, bad in enumerate(_bad_values(value)):
            if path[-1] in ("name", "description") and len(path) == 1 and bad is None:
                continue
            yield f"{key_path(path)}={bad!r}#{k}", dump(_set(BASE, path, bad)), key_path(path)
    for path in _mappings(BASE):
        where = key_path((*path, "bogus_key"))
        yield f"unknown:{where}", dump(_set(BASE, (*path, "bogus_key"), 1)), where
    for path in REQUIRED:
        yield f"missing:{key_path(path)}", dump(_set(BASE, path, _DELETE)), key_path(path)
    for path in [("tasks",), ("seed_cells",), ("mutation", "activations"),
                 ("hyperparameters", "layers"), ("mutation", "operators")]:
        yield f"empty:{key_path(path)}", dump(_set(BASE, path, type(_get(BASE, path))())), \
            key_path(path)
    yield from _limits()
    yield from _attacks()


def _get(data, path):
    for part in path:
        data = data[part]
    return data


def _limits():
    """One past each documented upper bound."""
    from archsearch.space import limits

    for path, value in [(("max_trials",), limits.MAX_TRIALS + 1),
                        (("seed",), limits.MAX_SEED + 1),
                        (("tasks", 1, "budget", "steps"), limits.MAX_STEPS + 1),
                        (("tasks", 0, "budget", "seconds"), limits.MAX_SECONDS + 0.5),
                        (("tasks", 0, "budget", "batch_size"), limits.MAX_BATCH_SIZE + 1),
                        (("tasks", 0, "seq_len"), limits.MAX_SEQ_LEN + 1),
                        (("tasks", 0, "seeds"), limits.MAX_SEEDS + 1),
                        (("tasks", 0, "seeds"), 0),
                        (("tasks", 0, "options", "num_examples"), limits.MAX_EXAMPLES + 1),
                        (("tasks", 1, "options", "max_digits"), 19),
                        (("tasks", 0, "options", "alphabet_size"), 27),
                        (("hyperparameters", "units", 0), limits.MAX_UNITS + 1),
                        (("hyperparameters", "layers", 0), limits.MAX_LAYERS + 1),
                        (("hyperparameters", "learning_rate", 0), limits.MAX_VALUE * 10),
                        (("hyperparameters", "learning_rate"),
                         [0.1] * (limits.MAX_CHOICES + 1)),
                        (("resources", "cpus"), limits.MAX_CPUS + 1),
                        (("strategy", "top_n"), limits.MAX_SAMPLES + 1)]:
        yield f"limit:{key_path(path)}={str(value)[:20]}", dump(_set(BASE, path, value)), \
            key_path(path)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _attacks():
    """Hand-written YAML that is malformed or abuses YAML features."""
    good = dump(BASE)
    bomb = "\n".join([f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 9) + "]"
                      for k in range(1, 10)])
    yield "alias-bomb-in-options", _replace(
        good, "  options:\n    length: 5",
        "  options:\n    length: 5\n    l0: &l0 [lol]\n" + bomb.replace("  l", "    l")), ":"
    yield "anchor-and-alias", good.replace("baseline: gru", "baseline: &b gru\nname2: *b"), ":"
    yield "anchor-only", good.replace("seed: 3", "seed: &s 3"), ":"
    yield "merge-key", "defaults: &d {steps: 1}\n" + good, ":"
    yield "duplicate-top-key", good + "seed: 4\n", ":"
    yield "duplicate-nested-key", good.replace("top_n: 10", "top_n: 10\n  top_n: 11"), ":"
    yield "duplicate-flow-key", good.replace("resources:\n  cpus: 1.0",
                                             "resources: {cpus: 1, cpus: 2}\nresourcez:\n"
                                             "  cpus: 1.0"), ":"
    yield "deep-flow-nesting", good + "extra: " + "[" * 100_000 + "]" * 100_000 + "\n", ":"
    yield "deep-block-nesting", good + "".join(f"{'  ' * k}k{k}:\n" for k in range(200)) \
        + "  " * 200 + "v: 1\n", ":"
    yield "5000-digit-seed", good.replace("seed: 3", "seed: " + "9" * 5000), ":"
    yield "5000-digit-negative", good.replace("max_trials: 20", "max_trials: -" + "1" * 5000), ":"
    yield "huge-hex", good.replace("seed: 3", "seed: 0x" + "f" * 200), ":"
    yield "over-size-limit", good + "# " + "x" * 1_100_000 + "\n", "bytes"
    yield "not-utf8", good.encode() + b"\xff\xfe\x00", "UTF-8"
    yield "nul-bytes", good + "\x00\x00", ":"
    yield "empty-file", "", "top level"
    yield "top-level-list", "- 1\n- 2\n", "top level"
    yield "top-level-scalar", "42\n", "top level"
    yield "python-tag", good.replace("baseline: gru", "baseline: !!python/object:os.system ls"), \
        ":"
    yield "binary-tag", good.replace("baseline: gru", "baseline: !!binary aGVsbG8="), "baseline"
    yield "timestamp-as-name", good.replace("name: adversarial", "name: 2001-12-14"), "name"
    yield "set-tag", good.replace("baseline: gru", "baseline: !!set {a, b}"), "baseline"
    yield "two-documents", good + "---\nseed: 1\n", ":"
    yield "tab-indent", good.replace("  top_n: 10", "\ttop_n: 10"), ":"
    yield "unclosed-flow", good + "extra: [1, 2\n", ":"
    yield "yes-as-int", good.replace("max_trials: 20", "max_trials: yes"), "max_trials"
    yield "seeds-bool", good.replace("seeds: 2", "seeds: true"), "tasks[0].seeds"
    yield "seconds-inf-string", good.replace("seconds: 30.0", "seconds: .Inf"), \
        "tasks[0].budget.seconds"
    yield "option-negative", good.replace("max_distractors: 1", "max_distractors: -3"), \
        "tasks[1].options.max_distractors"
    yield "option-string", good.replace("max_distractors: 1", "max_distractors: '1'"), \
        "tasks[1].options.max_distractors"
    yield "option-unknown", good.replace("max_distractors: 1", "max_distractor: 1"), \
        "tasks[1].options.max_distractor"
    for name, ref in (("dev-zero", "/dev/zero"), ("proc", "/proc/self/environ"),
                      ("directory", "/tmp/"), ("missing", "no/such/cell.json")):
        yield f"genome-file-{name}", good.replace("- lstm\n", f"- {ref}\n", 1), \
            "seed_cells[0].cell"
    yield "control-chars-in-key", good + "\"bad\\nkey\\u001b[31m\": 1\n", "bad\\nkey"
