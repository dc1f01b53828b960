"""Pre-flight: can the Ray cluster ever run one trial of this space?

Ray Tune waits forever for resources a cluster does not have: a trial asking
for a GPU on a laptop's local Ray prints "No trial is running ..." once a
minute and never starts. Before the first trial (and before anything is
written to the run directory), `preflight` compares one trial's request with
what the cluster can ever offer:

- a node that can hold one trial now: go;
- none now, but an autoscaler node type that could (a joined cluster with an
  autoscaler, e.g. KubeRay's GPU group scaled to 0): ask the autoscaler for
  one such node (`ray.autoscaler.sdk.request_resources`) and wait, saying so,
  for at most `pending_timeout` seconds;
- neither: `ResourceError` naming the resource, the amount asked, what
  exists, and the ways out.

Under `--simulate` no trial needs an accelerator: `simulated_resources` asks
for no GPU and for at most the CPUs of the largest node, and says what it
changed.

Example:
    >>> cluster = Cluster(nodes=[{"CPU": 2.0}], node_types=None, local=True)
    >>> try:
    ...     check({"CPU": 1.0, "GPU": 0.25}, cluster)
    ... except ResourceError as err:
    ...     print(str(err).split(";")[0])
    one trial asks for 0.25 GPUs, but the local Ray has no GPU (its node: 2 CPUs, 0 GPUs)
    >>> check({"CPU": 2.0, "GPU": 0.0}, cluster)
    'now'
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

__all__ = ["Cluster", "ResourceError", "check", "describe_cluster", "machine_cpus", "preflight",
           "request_of", "simulated_resources", "wait_for_node"]

#: Tolerance when comparing fractional resources (Ray rounds to 1e-4).
_EPS = 1e-6
#: Seconds between looks at the cluster while waiting for a node.
POLL_SECONDS = 5.0


class ResourceError(RuntimeError):
    """The cluster can never run one trial (or no node came within the timeout)."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """What a Ray cluster offers.

    Attributes:
        nodes: Total resources of each alive node (`{"CPU": 2.0, "GPU": 1.0, ...}`).
        node_types: Resources of each node type an autoscaler may add, or None
            when the cluster has no autoscaler.
        local: Whether this is a local Ray started by archsearch.
    """

    nodes: list[dict]
    node_types: list[dict] | None
    local: bool


def machine_cpus() -> int:
    """CPUs this process may run on (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def describe_cluster(local: bool) -> Cluster:
    """The cluster of the initialized Ray (`ray.init` has run).

    A local Ray started by archsearch may declare more CPUs than the machine
    has (`--workers` x CPUs per trial); its node then counts the machine's CPUs.
    """
    import ray

    from archsearch.compat.ray import autoscaler_node_types

    nodes = [dict(n.get("Resources", {})) for n in ray.nodes() if n.get("Alive")]
    if local:
        for node in nodes:
            node["CPU"] = float(min(node.get("CPU", 0.0), machine_cpus()))
    return Cluster(nodes=nodes, node_types=None if local else autoscaler_node_types(),
                   local=local)


def request_of(resources) -> dict:
    """Ray's resource request of one trial of a space's `resources`."""
    return {"CPU": float(resources.cpus), "GPU": float(resources.gpu)}


def _fits(request: dict, node: dict) -> bool:
    return all(amount <= node.get(key, 0.0) + _EPS for key, amount in request.items() if amount)


def _count(amount: float, unit: str) -> str:
    return f"{amount:g} {unit}" + ("" if amount == 1 else "s")


def _short(node: dict) -> str:
    return f"{_count(node.get('CPU', 0.0), 'CPU')}, {_count(node.get('GPU', 0.0), 'GPU')}"


def check(request: dict, cluster: Cluster) -> str:
    """`"now"` if a node can hold one trial, `"autoscale"` if a node type could.

    Raises:
        ResourceError: neither; the message names the resource, the amount
            asked, what exists and the ways out.
    """
    if any(_fits(request, node) for node in cluster.nodes):
        return "now"
    if cluster.node_types and any(_fits(request, t) for t in cluster.node_types):
        return "autoscale"
    offers = [*cluster.nodes, *(cluster.node_types or [])]
    # The resource no node offers enough of, named with the largest amount found.
    key = next((k for k, amount in request.items()
                if amount and all(n.get(k, 0.0) + _EPS < amount for n in offers)),
               next(k for k, amount in request.items() if amount))
    most = max((n.get(key, 0.0) for n in offers), default=0.0)
    unit = key if key in ("CPU", "GPU") else f"of resource {key!r}"
    where = "the local Ray" if cluster.local else "the Ray cluster"
    if most == 0:
        has = f"{where} has no {unit}"
    else:
        has = f"the largest node of {where} has {_count(most, unit)}"
    shown = "; ".join(_short(n) for n in cluster.nodes[:4]) or "none"
    what = "its node" if len(cluster.nodes) == 1 else f"its {len(cluster.nodes)} nodes"
    if cluster.node_types is not None:
        shown += "; autoscaler node types: " + ("; ".join(
            _short(t) for t in cluster.node_types[:4]) or "none")
    flag = "--gpus-per-trial" if key == "GPU" else "--cpus-per-trial"
    fix = f"{flag} 0 (train on CPUs)" if key == "GPU" else f"{flag} {most:g}"
    raise ResourceError(
        f"one trial asks for {_count(request[key], unit)}, but {has} ({what}: {shown}); "
        f"run on a cluster that has them (--address), lower the request ({fix}, or "
        f"resources in the space), or size the search with --simulate")


def simulated_resources(resources, cluster: Cluster):
    """`(resources, changes)`: what a simulated trial asks for instead, and why.

    A simulated trial needs no GPU, and no more CPUs than the largest node has.
    """
    changes = []
    update = {}
    if resources.gpu:
        update["gpu"] = 0.0
        changes.append(f"gpu {resources.gpu:g} -> 0 (a simulated trial needs no GPU)")
    offers = [n.get("CPU", 0.0) for n in [*cluster.nodes, *(cluster.node_types or [])]]
    most = max(offers, default=0.0)
    if most >= 1 and resources.cpus > most + _EPS:
        update["cpus"] = float(most)
        changes.append(f"cpus {resources.cpus:g} -> {most:g} (the most one node has)")
    return (resources.model_copy(update=update) if update else resources), changes


def wait_for_node(request: dict, describe: Callable[[], Cluster], timeout: float,
                  say: Callable[[str], None], *, poll: float = POLL_SECONDS,
                  clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> None:
    """Waits until a node can hold `request`, saying so; at most `timeout` seconds.

    Raises:
        ResourceError: no such node came within `timeout`.
    """
    start = clock()
    wanted = " and ".join(_count(v, k) for k, v in request.items() if v)
    while True:
        if any(_fits(request, node) for node in describe().nodes):
            return
        waited = clock() - start
        if waited >= timeout:
            raise ResourceError(
                f"no node with {wanted} joined the Ray cluster within {timeout:g} s "
                f"(--pending-timeout); the autoscaler could not add one (quota, instance "
                f"availability?): check its logs, or lower the request")
        say(f"waiting for a node with {wanted} (autoscaler; {waited:.0f} of {timeout:g} s)")
        sleep(min(poll, max(0.0, timeout - waited)))


def preflight(space, *, local: bool, simulate: bool = False, pending_timeout: float = 900.0,
              say: Callable[[str], None] = print, describe=None):
    """Checks `space`'s trial resources against the Ray cluster; returns the space to run.

    Args:
        space: The `SearchSpace` (overrides already applied).
        local: Whether archsearch started this Ray on the local machine.
        simulate: Simulated trials: no GPU, at most the CPUs of one node.
        pending_timeout: Seconds to wait for an autoscaler's node.
        say: Where start-up lines go.
        describe: `() -> Cluster` (default: `describe_cluster(local)`).

    Raises:
        ResourceError: the cluster can never run one trial, or no node came.
    """
    describe = describe or (lambda: describe_cluster(local))
    cluster = describe()
    if simulate:
        resources, changes = simulated_resources(space.resources, cluster)
        if changes:
            say("simulate: trials ask for " + "; ".join(changes))
            space = space.model_copy(update={"resources": resources})
    request = request_of(space.resources)
    if check(request, cluster) == "autoscale":
        from archsearch.compat.ray import request_nodes

        request_nodes([request])
        try:
            wait_for_node(request, describe, pending_timeout, say)
        finally:
            request_nodes([])  # Tune's own pending trials keep the demand from here on
    return space
