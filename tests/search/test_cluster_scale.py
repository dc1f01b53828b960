"""A simulated search at size on a simulated cluster: thousands of trials, none lost or doubled.

Ray runs in a subprocess (its own session, process group and `RAY_TMPDIR`,
as in `test_faults.py`), so the session's shared local Ray is not touched.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]

NODES = 8
MAX_TRIALS = 2000

# Evolution from four seed cells; every stage of a cell queues 8 hyperparameter
# samples x 4 seeds = 32 trials, so the executor's batches (32 simulated trials
# per Tune trial) fill up and the oracle keeps proposing cells until max_trials.
SPACE = f"""
name: cluster_scale
seed: 0
max_trials: {MAX_TRIALS}
baseline: gru
seed_cells: [lstm, gru, lstm_b, tanh_rnn]
strategy: {{name: evolution, top_n: 20, hyperparameter_samples: 8, reevaluate_probability: 0.1}}
hyperparameters: {{units: [8, 16], learning_rate: [0.1, 0.5, 1.0], layers: [1]}}
tasks:
  - {{name: arithmetic, budget: {{steps: 5}}, seeds: 4}}
  - {{name: xml, budget: {{steps: 5}}, seeds: 4}}
resources: {{cpus: 1, gpu: 0.5}}
"""

# A head without CPUs and NODES worker nodes of 1 CPU and 1 GPU that does not
# exist; runs the simulated search on it; writes WORK/result.json.
#
# A batch of 32 simulated trials takes ~0.1 s, far less than Ray takes to start
# a second trainable actor (its worker imports TensorFlow), so Ray Tune may hand
# every batch to the first actor (actor reuse) and the search never leaves one
# node. A setup hook on every Ray worker makes each process's first simulated
# trial wait (at most RENDEZVOUS_S) until workers on 2 nodes have reached that
# point: the first batches overlap, and a node holds one trainable (1 CPU each).
# Nothing else of the search changes.
SCRIPT = r'''
import json, os, sys, time
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

import archsearch
from archsearch.search.executor import run_search

work, space, nodes = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
meet = work / "rendezvous"
meet.mkdir()


def setup(meet=str(meet), want=2, limit=RENDEZVOUS_S):
    import os, time
    import ray
    from archsearch.search import simulate

    execute, waited = simulate.execute, []

    def execute_after_rendezvous(*args, **kwargs):
        if not waited:  # this process's first trial
            waited.append(True)
            open(os.path.join(meet, ray.get_runtime_context().get_node_id()), "w").close()
            deadline = time.monotonic() + limit
            while len(os.listdir(meet)) < want and time.monotonic() < deadline:
                time.sleep(0.05)
        return execute(*args, **kwargs)

    simulate.execute = execute_after_rendezvous


start = time.monotonic()
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
workers = [cluster.add_node(num_cpus=1, num_gpus=1) for _ in range(nodes)]
cluster.wait_for_nodes()
ray.init(address=cluster.address, log_to_driver=False,
         runtime_env={"worker_process_setup_hook": setup})
out = {"nodes": {n["NodeID"]: n["Resources"] for n in ray.nodes() if n["Alive"]},
       "workers": [w.node_id for w in workers], "cluster_seconds": time.monotonic() - start}
try:
    summary = run_search(archsearch.load_search_space(space), str(work / "run"), progress=False,
                         simulate=True, workers=nodes)
    out["summary"] = vars(summary)
finally:
    out["seconds"] = time.monotonic() - start
    out["rendezvous"] = sorted(os.listdir(meet))
    (work / "result.json").write_text(json.dumps(out, indent=1, default=str))
    ray.shutdown()
    cluster.shutdown()
'''.replace("RENDEZVOUS_S", "120")


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory, module_subprocesses, read_records):
    """Runs SCRIPT once; returns its result.json with the records and the oracle's state."""
    work = tmp_path_factory.mktemp("scale")
    space, script, log = work / "space.yaml", work / "driver.py", work / "log.txt"
    space.write_text(SPACE)
    script.write_text(SCRIPT)
    proc = module_subprocesses.start([script, work, space, NODES], log)
    try:
        proc.wait(timeout=400)
    except Exception:  # noqa: BLE001 - the fixture's teardown kills the group
        pytest.fail("the search is still running after 400 s; log:\n"
                    + log.read_text(errors="replace")[-4000:])
    result = work / "result.json"
    assert proc.returncode == 0 and result.exists(), log.read_text(errors="replace")[-4000:]
    out = json.loads(result.read_text())
    out["records"] = read_records(work / "run")
    out["oracle"] = json.loads(Path(work, "run", "oracle.json").read_text())
    return out


def test_thousands_of_trials_on_eight_fractional_gpu_nodes_each_run_once(scale_run):
    workers = set(scale_run["workers"])
    assert len(workers) == NODES
    for node in workers:
        assert scale_run["nodes"][node]["GPU"] == 1.0  # declared, not real
        assert scale_run["nodes"][node]["CPU"] == 1.0
    summary, recs = scale_run["summary"], scale_run["records"]

    # Every trial id 0..N-1 has exactly one record (one file per id), and no
    # other record exists.
    assert sorted(recs, key=int) == [str(k) for k in range(MAX_TRIALS)]
    assert all(rec["trial_id"] == tid for tid, rec in recs.items())
    # No trial ran twice under another id: (cell, task, sample, seed) is unique.
    keys = Counter((r["cell"]["fingerprint"], r["task"], r["sample"], r["seed"])
                   for r in recs.values())
    assert [k for k, n in keys.items() if n > 1] == []
    assert all(r["simulated"] for r in recs.values())
    # The oracle kept working: evolution proposed cells beyond the seeds.
    assert len({r["cell"]["fingerprint"] for r in recs.values()}) > 10
    assert {r["cell"]["origin"] for r in recs.values()} >= {"seed", "mutation"}

    # Trials ran on several of the worker nodes, never on the CPU-less head.
    nodes = Counter(r["worker"]["node_id"] for r in recs.values())
    assert set(nodes) <= workers, nodes
    assert len(nodes) >= 2, (nodes, scale_run["rendezvous"])

    # The oracle's account matches the records.
    failed = sum(r["status"] == "failed" for r in recs.values())
    assert {r["status"] for r in recs.values()} <= {"completed", "failed"}
    assert 0 < failed < MAX_TRIALS * 0.05  # the simulator fails ~2% of trials
    assert summary["finished"]
    assert (summary["trials"], summary["failed"]) == (MAX_TRIALS, failed)
    state = scale_run["oracle"]
    assert state["ended"] == MAX_TRIALS
    assert int(state["next_trial"]) >= MAX_TRIALS
    assert not state["ongoing"] and not state["pending"] and not state["retry_queue"]
