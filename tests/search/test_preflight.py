"""Pre-flight: a trial the Ray cluster can never run is an error before the first trial."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

import archsearch
from archsearch.search.preflight import (
    Cluster,
    ResourceError,
    check,
    preflight,
    simulated_resources,
    wait_for_node,
)

REPO = Path(__file__).resolve().parents[2]
LAPTOP = Cluster(nodes=[{"CPU": 2.0, "memory": 1e10}], node_types=None, local=True)


def test_a_trial_that_fits_a_node_goes_now():
    assert check({"CPU": 2.0, "GPU": 0.0}, LAPTOP) == "now"
    assert check({"CPU": 0.5, "GPU": 0.0}, LAPTOP) == "now"


@pytest.mark.parametrize(("request_", "names"), [
    ({"CPU": 1.0, "GPU": 0.25}, ["0.25 GPUs", "no GPU", "--gpus-per-trial 0", "--address"]),
    ({"CPU": 1.0, "GPU": 1.0}, ["1 GPU,", "no GPU", "2 CPUs, 0 GPUs"]),
    ({"CPU": 8.0, "GPU": 0.0}, ["8 CPUs", "has 2 CPUs", "--cpus-per-trial 2", "--simulate"]),
])
def test_a_trial_no_node_can_hold_is_refused_with_the_counts(request_, names):
    with pytest.raises(ResourceError) as info:
        check(request_, LAPTOP)
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert name in message, (name, message)


def test_a_cluster_whose_autoscaler_can_add_the_node_waits_instead():
    cluster = Cluster(nodes=[{"CPU": 4.0}], node_types=[{"CPU": 8.0, "GPU": 1.0}], local=False)
    assert check({"CPU": 1.0, "GPU": 1.0}, cluster) == "autoscale"
    with pytest.raises(ResourceError, match="autoscaler node types: 8 CPUs, 0 GPUs"):
        check({"CPU": 1.0, "GPU": 1.0}, Cluster(nodes=[{"CPU": 4.0}],
                                                node_types=[{"CPU": 8.0}], local=False))


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_waiting_for_a_node_says_so_and_stops_at_the_timeout():
    clock, said = _Clock(), []
    empty = Cluster(nodes=[{"CPU": 4.0}], node_types=[{"GPU": 1.0}], local=False)
    with pytest.raises(ResourceError, match="no node with 1 GPU joined .* within 60 s"):
        wait_for_node({"CPU": 0.0, "GPU": 1.0}, lambda: empty, 60, said.append, poll=5,
                      clock=clock, sleep=clock.sleep)
    assert said[0].startswith("waiting for a node with 1 GPU")
    assert len(said) == 12 and clock.now == 60


def test_waiting_ends_when_the_node_joins():
    clock, said = _Clock(), []
    grown = Cluster(nodes=[{"CPU": 4.0}, {"CPU": 8.0, "GPU": 1.0}], node_types=[], local=False)
    views = iter([LAPTOP, LAPTOP, grown])
    wait_for_node({"GPU": 1.0}, lambda: next(views), 60, said.append, poll=5, clock=clock,
                  sleep=clock.sleep)
    assert len(said) == 2 and clock.now == 10


def test_simulated_trials_ask_for_no_gpu_and_at_most_one_nodes_cpus():
    space = archsearch.load_search_space(REPO / "search_spaces/jozefowicz2015.yaml")
    big = space.resources.model_copy(update={"cpus": 16.0})
    resources, changes = simulated_resources(big, LAPTOP)
    assert (resources.cpus, resources.gpu) == (2.0, 0.0)
    assert any("gpu 0.25 -> 0" in c for c in changes) and any("cpus 16 -> 2" in c
                                                                 for c in changes)
    same, none = simulated_resources(resources, LAPTOP)
    assert same is resources and none == []


@pytest.mark.parametrize("path", sorted((REPO / "search_spaces").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_space_passes_preflight_simulated_on_two_cores(path):
    space = archsearch.load_search_space(path)
    said = []
    checked = preflight(space, local=True, simulate=True, say=said.append,
                        describe=lambda: LAPTOP)
    assert checked.resources.gpu == 0 and checked.resources.cpus <= 2
    assert bool(said) == (space.resources.gpu > 0 or space.resources.cpus > 2)


def test_overrides_are_validated_like_the_space(tmp_path):
    from archsearch.search.executor import with_overrides

    space = archsearch.load_search_space(REPO / "search_spaces/jozefowicz2015.yaml")
    changed = with_overrides(space, cpus_per_trial=0.5, gpus_per_trial=0)
    assert (changed.resources.cpus, changed.resources.gpu) == (0.5, 0.0)
    assert changed.resources.population == space.resources.population
    assert with_overrides(space) is space


@pytest.mark.parametrize(("args", "expected"), [
    (["--gpus-per-trial", "2"], "--gpus-per-trial: expected a fraction of one GPU in [0, 1]"),
    (["--gpus-per-trial", "nan"], "--gpus-per-trial: expected a fraction of one GPU"),
    (["--cpus-per-trial", "0"], "--cpus-per-trial: expected CPUs per trial in (0, 4096]"),
    (["--cpus-per-trial", "-1"], "--cpus-per-trial: expected CPUs per trial"),
    (["--pending-timeout", "inf"], "--pending-timeout: expected seconds"),
])
def test_bad_resource_arguments_exit_2_naming_the_flag(tmp_path, capsys, args, expected):
    from archsearch.cli import main

    with pytest.raises(SystemExit) as info:
        main(["search", str(REPO / "search_spaces/quickstart.yaml"), "--run-dir",
              str(tmp_path / "run"), *args])
    assert info.value.code == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.xdist_group("ray")
@pytest.mark.parametrize(("resources", "named"), [
    ("{cpus: 1, gpu: 1}", "1 GPU, but the local Ray has no GPU"),
    ("{cpus: 64, gpu: 0}", "64 CPUs, but the largest node of the local Ray has"),
])
def test_a_real_search_the_local_ray_cannot_run_exits_2_within_30_s(
        tmp_path, subprocesses, space_yaml, resources, named):
    space = tmp_path / "space.yaml"
    space.write_text(space_yaml(resources=resources))
    run_dir, log = tmp_path / "run", tmp_path / "log.txt"
    start = time.monotonic()
    proc = subprocesses.start(["-m", "archsearch", "search", space, "--run-dir", run_dir,
                               "--no-progress"], log)
    code = proc.wait(timeout=60)
    seconds = time.monotonic() - start
    text = log.read_text()
    assert code == 2, text
    assert seconds < 30, seconds
    errors = [line for line in text.splitlines() if line.startswith("archsearch: error:")]
    assert len(errors) == 1 and named in errors[0], text
    assert "Traceback" not in text
    assert not run_dir.exists()


@pytest.mark.xdist_group("ray")
def test_gpus_per_trial_0_runs_a_gpu_space_and_run_json_records_it(
        tmp_path, ray_session, space_yaml, read_records):
    import json

    from archsearch.search.executor import run_search

    path = tmp_path / "space.yaml"
    path.write_text(space_yaml(resources="{cpus: 1, gpu: 1}"))
    space = archsearch.load_search_space(path)
    with pytest.raises(ResourceError, match="1 GPU"):
        run_search(space, tmp_path / "refused", progress=False)
    assert not (tmp_path / "refused").exists()
    summary = run_search(space, tmp_path / "run", progress=False, gpus_per_trial=0)
    assert summary.finished and len(read_records(tmp_path / "run")) == 2
    recorded = json.loads((tmp_path / "run" / "run.json").read_text())
    assert recorded["space"]["resources"]["gpu"] == 0


def test_the_cli_help_names_the_overrides():
    out = subprocess.run([sys.executable, "-m", "archsearch", "search", "--help"],
                         capture_output=True, text=True, cwd=REPO, check=True).stdout
    for flag in ("--cpus-per-trial", "--gpus-per-trial", "--pending-timeout"):
        assert flag in out
