"""ray_cluster.yaml: valid for Ray's cluster launcher, and what a GPU search needs.

Validated the way `ray up` does it (ray/autoscaler/_private/commands.py,
`_bootstrap_config`): `prepare_config` fills the AWS defaults and merges the
setup commands, then `validate_config` checks Ray's JSON schema. Nothing here
talks to AWS.
"""

import copy
import re
from pathlib import Path

import pytest
import yaml

CONFIG = Path(__file__).resolve().parents[2] / "ray_cluster.yaml"


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(CONFIG.read_text())


@pytest.fixture(scope="module")
def config(raw):
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(copy.deepcopy(raw))
    validate_config(prepared)
    return prepared


def _head(config):
    return config["available_node_types"][config["head_node_type"]]


def _workers(config):
    return {name: t for name, t in config["available_node_types"].items()
            if name != config["head_node_type"]}


def test_ray_validates_the_config(config):
    assert config["provider"]["type"] in ("aws", "gcp")
    assert config["cluster_name"] == "archsearch"


def test_validation_can_fail(raw):
    from ray.autoscaler._private.util import prepare_config, validate_config

    broken = copy.deepcopy(raw)
    broken["available_node_types"]["head"]["resources"]["CPU"] = "four"
    with pytest.raises(Exception, match="four"):
        validate_config(prepare_config(broken))


def test_head_is_cpu_only(config):
    head = _head(config)
    assert head["resources"]["GPU"] == 0
    assert head["resources"]["CPU"] >= 0
    assert not head["node_config"]["InstanceType"].startswith(("g", "p"))


def test_an_autoscaling_gpu_worker_type(config):
    gpu = {name: t for name, t in _workers(config).items() if t["resources"].get("GPU", 0) >= 1}
    assert gpu, "no worker type with a GPU"
    for node_type in gpu.values():
        assert node_type["min_workers"] == 0  # nothing runs (or costs) while idle
        assert node_type["max_workers"] >= 1
        assert node_type["resources"]["CPU"] >= 1
        assert node_type["node_config"]["InstanceType"].startswith(("g", "p"))
    assert config["max_workers"] >= max(t["max_workers"] for t in gpu.values())
    assert config["idle_timeout_minutes"] > 0


def test_dashboard_is_not_exposed(config, raw):
    head_start = " ".join(config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head_start
    every_command = " ".join(config["head_start_ray_commands"]
                             + config["worker_start_ray_commands"])
    assert "0.0.0.0" not in every_command
    # No published container ports: Ray's containers use the host network, so
    # the bind address above is what counts.
    for option in config["docker"].get("run_options", []):
        assert not re.match(r"^(-p|--publish)\b", option), option
    # Every node type names a security group made for it (only SSH from the
    # admin network, see the file's header), so Ray never auto-creates its
    # default one, which accepts SSH from anywhere.
    for name, node_type in config["available_node_types"].items():
        assert node_type["node_config"].get("SecurityGroupIds"), name
    for rule in raw["provider"].get("security_group", {}).get("IpPermissions", []):
        assert rule.get("FromPort") == rule.get("ToPort") == 22, rule
        assert all(r["CidrIp"] != "0.0.0.0/0" for r in rule.get("IpRanges", [])), rule
    header = CONFIG.read_text().split("cluster_name:")[0]
    assert "--port 22 --cidr $ADMIN_CIDR" in header and "8265" not in header.replace(
        "http://127.0.0.1:8265", "")


def test_workers_install_archsearch_with_the_gpu_extra(config):
    workers = " ".join(config["worker_setup_commands"])  # setup_commands merged in
    assert re.search(r"pip install \S*archsearch\[gpu\]", workers), workers
    head = " ".join(config["head_setup_commands"])
    assert "archsearch" in head
    # From the checkout copied by file_mounts, not from a package index URL.
    mounted = {remote: local for remote, local in config["file_mounts"].items()}
    assert mounted.get("~/archsearch") == "."
    for command in config["head_setup_commands"] + config["worker_setup_commands"]:
        assert "http://" not in command and "https://" not in command
        assert "--index-url" not in command and "--extra-index-url" not in command
    images = config["docker"]
    assert images["worker_image"].startswith("rayproject/ray:") and \
        images["worker_image"].endswith("-gpu")


def test_comments_explain_shared_run_storage():
    text = CONFIG.read_text()
    assert "--run-dir s3://" in text
    assert "EFS" in text and "shared" in text.lower()
