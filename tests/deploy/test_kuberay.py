"""deploy/kuberay/rayjob.yaml: a valid KubeRay RayJob that runs a shipped search.

Validated against KubeRay's own RayJob schema (the `v1` openAPIV3Schema of
ray-operator/config/crd/bases/ray.io_rayjobs.yaml at KubeRay v1.7.0, vendored
in kuberay_rayjob_schema.json; see README.md here). `jsonschema` checks types,
enums, required fields and patterns; on top of it `unknown_fields` fails on
every key the schema does not declare, because Kubernetes would prune such a
field silently instead of rejecting it. Nothing here talks to a cluster.
"""

import copy
import json
import shlex
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "kuberay" / "rayjob.yaml"
SCHEMA = Path(__file__).resolve().parent / "kuberay_rayjob_schema.json"

# The API server validates a custom resource's own `metadata` as ObjectMeta,
# not through the CRD's schema (which only says `type: object`); these are the
# ObjectMeta fields a manifest sets.
OBJECT_META = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _format_checker() -> jsonschema.FormatChecker:
    """A `jsonschema` format checker that also range-checks OpenAPI int32 / int64."""
    checker = jsonschema.FormatChecker()
    for name, (low, high) in INT_RANGES.items():
        checker.checks(name)(
            lambda value, low=low, high=high: not isinstance(value, int)
            or isinstance(value, bool) or low <= value <= high)
    return checker


def unknown_fields(value, schema, path="") -> list[str]:
    """Paths of keys in `value` that `schema` (a structural schema) does not declare.

    A key is declared when it is in the object's `properties`, or the object
    has `additionalProperties` (a map: its values are checked against that
    schema), or the object or one above it sets
    `x-kubernetes-preserve-unknown-fields: true`.
    """
    if schema.get("x-kubernetes-preserve-unknown-fields") is True:
        if not isinstance(value, dict):
            return []
        # Unknown keys are kept, declared ones are still checked.
        return [p for key, item in value.items() if key in schema.get("properties", {})
                for p in unknown_fields(item, schema["properties"][key], f"{path}.{key}")]
    found = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in properties:
                found += unknown_fields(item, properties[key], where)
            elif isinstance(extra, dict):
                found += unknown_fields(item, extra, where)
            elif extra is not True:
                found.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += unknown_fields(item, schema["items"], f"{path}[{i}]")
    return found


def cel_rules_used(value, schema, path="") -> list[str]:
    """Paths in `value` whose schema carries CEL rules, which this test cannot run."""
    found = [path] if schema.get("x-kubernetes-validations") else []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                found += cel_rules_used(item, sub, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += cel_rules_used(item, schema["items"], f"{path}[{i}]")
    return found


def problems(manifest, schema) -> list[str]:
    """Everything the API server would reject or silently drop in `manifest`."""
    found = [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
             for e in jsonschema.Draft7Validator(
                 schema, format_checker=_format_checker()).iter_errors(manifest)]
    found += [f"{p}: unknown field (Kubernetes would drop it)"
              for p in unknown_fields(manifest, schema)]
    if manifest.get("apiVersion") != "ray.io/v1" or manifest.get("kind") != "RayJob":
        found.append(f"<root>: expected apiVersion ray.io/v1, kind RayJob; received "
                     f"{manifest.get('apiVersion')!r}, {manifest.get('kind')!r}")
    return found


@pytest.fixture(scope="module")
def schema():
    crd_schema = json.loads(SCHEMA.read_text())
    full = copy.deepcopy(crd_schema)
    full["properties"]["metadata"] = OBJECT_META
    full["required"] = sorted({*full.get("required", []), "apiVersion", "kind", "metadata",
                               "spec"})
    return full


@pytest.fixture(scope="module")
def manifest():
    return yaml.safe_load(MANIFEST.read_text())


@pytest.fixture(scope="module")
def cluster(manifest):
    return manifest["spec"]["rayClusterSpec"]


def _gpu_groups(cluster):
    return [g for g in cluster.get("workerGroupSpecs", [])
            if any(int(c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu", 0)) >= 1
                   for c in g["template"]["spec"]["containers"])]


def test_vendored_schema_is_kuberays_v1_rayjob():
    crd_schema = json.loads(SCHEMA.read_text())
    spec = crd_schema["properties"]["spec"]["properties"]
    assert {"entrypoint", "rayClusterSpec", "shutdownAfterJobFinishes",
            "ttlSecondsAfterFinished", "runtimeEnvYAML", "submissionMode"} <= spec.keys()
    assert "workerGroupSpecs" in spec["rayClusterSpec"]["properties"]
    jsonschema.Draft7Validator.check_schema(crd_schema)
    provenance = (SCHEMA.parent / "README.md").read_text()
    assert "ray-project/kuberay" in provenance and "v1.7.0" in provenance
    assert "v1.7.0" in MANIFEST.read_text()


def test_manifest_is_a_valid_rayjob(manifest, schema):
    assert problems(manifest, schema) == []


def test_manifest_uses_no_field_with_unchecked_cel_rules(manifest, schema):
    # CEL rules (x-kubernetes-validations) are not evaluated here; if the
    # manifest ever sets such a field (deletionStrategy, managedBy, ...), check
    # its rules by hand and extend this test.
    assert cel_rules_used(manifest, schema) == []


@pytest.mark.parametrize("mutate, expected", [
    # Misspelled fields: valid JSON Schema, pruned silently by Kubernetes.
    (lambda m: m["spec"]["rayClusterSpec"].__setitem__(
        "workerGroupSpecz", m["spec"]["rayClusterSpec"].pop("workerGroupSpecs")),
     "spec.rayClusterSpec.workerGroupSpecz: unknown field"),
    (lambda m: m["spec"].__setitem__("shutdownAfterJobFinish",
                                     m["spec"].pop("shutdownAfterJobFinishes")),
     "spec.shutdownAfterJobFinish: unknown field"),
    (lambda m: m["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]
     ["containers"][0].__setitem__("resource", {}),
     "spec.rayClusterSpec.workerGroupSpecs[0].template.spec.containers[0].resource: "
     "unknown field"),
    (lambda m: m["metadata"].__setitem__("label", {"a": "b"}), "metadata.label: unknown field"),
    # Wrong types, values, ranges, required fields.
    (lambda m: m["spec"]["rayClusterSpec"]["workerGroupSpecs"][0].__setitem__(
        "minReplicas", "zero"), "'zero' is not of type 'integer'"),
    (lambda m: m["spec"]["rayClusterSpec"]["workerGroupSpecs"][0].__setitem__(
        "maxReplicas", 2**31), "is not a 'int32'"),
    (lambda m: m["spec"]["rayClusterSpec"]["workerGroupSpecs"][0].pop("groupName"),
     "'groupName' is a required property"),
    (lambda m: m["spec"]["rayClusterSpec"]["autoscalerOptions"].__setitem__(
        "upscalingMode", "Fast"), "'Fast' is not one of"),
    (lambda m: m["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]
     ["containers"][0]["resources"]["limits"].__setitem__("memory", "32 GB"),
     "does not match"),
    (lambda m: m.__setitem__("apiVersion", "ray.io/v1alpha1"), "expected apiVersion ray.io/v1"),
])
def test_validation_can_fail(manifest, schema, mutate, expected):
    broken = copy.deepcopy(manifest)
    mutate(broken)
    found = problems(broken, schema)
    assert any(expected in p for p in found), found


def test_unknown_field_check_honours_preserve_unknown_fields():
    schema = {"type": "object", "properties": {
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                 "properties": {"known": {"type": "object", "properties": {}}}},
        "map": {"type": "object", "additionalProperties": {"type": "string"}}}}
    assert unknown_fields({"free": {"anything": {"x": 1}}, "map": {"k": "v"}}, schema) == []
    assert unknown_fields({"free": {"known": {"typo": 1}}}, schema) == [".free.known.typo"]
    assert unknown_fields({"other": 1}, schema) == [".other"]


def test_entrypoint_runs_a_shipped_search_space(manifest):
    from archsearch import load_search_space
    from archsearch.cli import build_parser

    words = shlex.split(manifest["spec"]["entrypoint"])
    assert words[:2] == ["archsearch", "search"], words
    args = build_parser().parse_args(words[1:])
    assert args.command == "search"
    space_path = Path(args.space)
    assert not space_path.is_absolute() and space_path.parts[0] == "search_spaces"
    assert (ROOT / space_path).is_file(), space_path
    space = load_search_space(ROOT / space_path)
    # Shared storage: every worker writes its trials' records there.
    assert args.run_dir.startswith("s3://"), args.run_dir
    assert args.no_progress  # a job log, not a terminal
    assert args.address is None  # the job's RAY_ADDRESS points at this cluster
    assert not args.simulate
    # The relative space path resolves in the job's working directory, which
    # the image holds (a local working_dir is uploaded by the K8sJobMode submitter).
    runtime_env = yaml.safe_load(manifest["spec"]["runtimeEnvYAML"])
    assert runtime_env["working_dir"].startswith("/")
    assert manifest["spec"].get("submissionMode", "K8sJobMode") in ("K8sJobMode", "SidecarMode")
    # One trial fits on one GPU worker.
    (group,) = _gpu_groups(manifest["spec"]["rayClusterSpec"])
    limits = group["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert 0 < space.resources.gpu <= int(limits["nvidia.com/gpu"])
    assert space.resources.cpus <= float(limits["cpu"])


def test_dashboard_is_not_exposed(cluster):
    head = cluster["headGroupSpec"]
    assert head.get("serviceType", "ClusterIP") == "ClusterIP"
    assert not head.get("enableIngress", False)
    assert head.get("headService", {}).get("spec", {}).get("type", "ClusterIP") == "ClusterIP"
    text = MANIFEST.read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for word in ("NodePort", "LoadBalancer", "hostNetwork", "hostPort", "Ingress"):
        assert word not in body, word
    assert "port-forward" in text  # the header says how to watch it instead


def test_gpu_workers_autoscale_from_zero(cluster):
    assert cluster["enableInTreeAutoscaling"] is True
    groups = _gpu_groups(cluster)
    assert len(groups) == 1, "expected one worker group with nvidia.com/gpu limits"
    (group,) = groups
    assert group["minReplicas"] == 0
    assert group.get("replicas", 0) == 0
    assert group["maxReplicas"] >= 1
    container = group["template"]["spec"]["containers"][0]
    assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    head = cluster["headGroupSpec"]
    for container in head["template"]["spec"]["containers"]:
        assert "nvidia.com/gpu" not in container.get("resources", {}).get("limits", {})
    assert head["rayStartParams"].get("num-cpus") == "0"  # trials go to the GPU workers


def test_cluster_is_deleted_after_the_job(manifest):
    assert manifest["spec"]["shutdownAfterJobFinishes"] is True
    assert manifest["spec"]["ttlSecondsAfterFinished"] > 0


def test_credentials_come_from_a_secret(cluster):
    templates = [cluster["headGroupSpec"]["template"]] + [
        g["template"] for g in cluster["workerGroupSpecs"]]
    for template in templates:
        for container in template["spec"]["containers"]:
            assert any("secretRef" in source for source in container.get("envFrom", [])), \
                container["name"]
            for variable in container.get("env", []):
                assert "value" not in variable or not variable["name"].startswith("AWS_")


def test_ray_version_matches_the_pin(cluster):
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (ray_pin,) = [p for p in pins if p.startswith("ray[")]
    specifier = SpecifierSet(ray_pin.split("]", 1)[1])
    assert cluster["rayVersion"] in specifier, (cluster["rayVersion"], ray_pin)
    text = MANIFEST.read_text()
    assert f"FROM rayproject/ray:{cluster['rayVersion']}-py311-gpu" in text
    assert "archsearch-src[gpu]" in text  # the image installs archsearch with the gpu extra
