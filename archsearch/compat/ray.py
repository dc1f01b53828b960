"""Ray's private names used by archsearch, in one place (ray 2.60, < 2.61).

- `ray_constants` (loaded on first use, since it imports Ray):
  `ray._private.ray_constants`, where Ray reads its switches at import time.
- `no_cluster()`: Ray's "no cluster" switch set for a `with` block. Ray
  replaces a loopback node IP by the machine's reachable IP unless clusters
  are disabled (`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, read into
  `ray_constants.ENABLE_RAY_CLUSTER` when Ray is imported); inside the block
  both are off, so a `ray.init(_node_ip_address="127.0.0.1")` stays on
  loopback, and the processes it starts inherit the variable.
- `autoscaler_node_types()`: the node types an autoscaler may add, from the
  cluster config Ray keeps in its GCS (`ray._private.state.state.get_cluster_config`);
  `request_nodes(bundles)` asks the autoscaler for them (public SDK).

Example:
    >>> import os
    >>> from archsearch.compat.ray import ray_constants
    >>> with no_cluster():
    ...     os.environ[CLUSTER_SWITCH], ray_constants.ENABLE_RAY_CLUSTER
    ('0', False)
"""

from __future__ import annotations

import contextlib
import os

# `ray_constants` is also exported, loaded on first use (module `__getattr__`).
__all__ = ["CLUSTER_SWITCH", "autoscaler_node_types", "no_cluster", "request_nodes"]

#: The environment variable behind `ray_constants.ENABLE_RAY_CLUSTER`.
CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def no_cluster():
    """Disables Ray clusters (local Ray only, loopback kept) for the `with` block.

    Restores the environment variable and Ray's constant afterwards, also on
    errors.
    """
    constants = _ray_constants()
    saved_env, saved_flag = os.environ.get(CLUSTER_SWITCH), constants.ENABLE_RAY_CLUSTER
    os.environ[CLUSTER_SWITCH], constants.ENABLE_RAY_CLUSTER = "0", False
    try:
        yield
    finally:
        constants.ENABLE_RAY_CLUSTER = saved_flag
        if saved_env is None:
            os.environ.pop(CLUSTER_SWITCH, None)
        else:
            os.environ[CLUSTER_SWITCH] = saved_env


def autoscaler_node_types() -> list[dict] | None:
    """Resources of each node type the cluster's autoscaler may add (None: no autoscaler).

    A node type whose `max_count` is 0 cannot be added and is left out.
    """
    try:
        from ray._private.state import state

        config = state.get_cluster_config()
    except Exception:  # noqa: BLE001 - no GCS config (no autoscaler, older Ray): none
        return None
    if config is None or not config.node_group_configs:
        return None
    return [{key: float(value) for key, value in group.resources.items()}
            for group in config.node_group_configs if group.max_count != 0]


def request_nodes(bundles: list[dict]) -> None:
    """Asks the autoscaler for nodes that fit `bundles` (`[]` withdraws the request)."""
    from ray.autoscaler.sdk import request_resources

    request_resources(bundles=bundles)


def _ray_constants():
    from ray._private import ray_constants

    return ray_constants


def __getattr__(name):
    if name == "ray_constants":  # loaded on first use: importing it imports Ray
        return _ray_constants()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
