"""The shared layer as `make layer` and `sam build` build it (python -m infra.layer).

Size and contents are checked on the arm64 build Lambda gets. Its binaries cannot load on an
x86_64 host, so the imports run on the same build for the host's architecture (same requirements,
same wheels but for the platform tag, same stripping and bytecode), under Python 3.12 with nothing
but the layer and the function's folder on sys.path, as Lambda's python3.12 runtime runs them.
"""

from __future__ import annotations

import ast
import os
import platform
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from infra import layer
from infra.lambda_probe import lambda_environment, probe
from infra.local.provision import FunctionSpec, Stack
from tests.conftest import ADMIN_TOKEN
from tests.support.api import GatewayClient
from tests.support.events import api_event

pytestmark = pytest.mark.xdist_group("layer")  # one worker builds the layers once for the module

ROOT = layer.ROOT
SIZE_LIMIT = 60 * 2**20  # goal of issue 15; Lambda's own limit is 250 MB, function included
PYC_UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked
PYTHON_312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"  # every 3.12.x release
# Chalice's dependencies that only its command line and deployer use: none belongs in the layer.
COMMAND_LINE_ONLY = {"click", "pip", "setuptools", "wheel", "inquirer", "pyyaml", "blessed", "readchar", "editor"}
# What Lambda's python3.12 on arm64 evaluates requirement markers against.
LAMBDA_MARKERS = {
    **default_environment(),
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
}


@pytest.fixture(scope="module")
def arm64_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layer.build(tmp_path_factory.mktemp("layer-arm64"), "arm64")


@pytest.fixture(scope="module")
def host_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layer.build(tmp_path_factory.mktemp("layer-host"), layer.HOST_ARCHITECTURE[platform.machine().lower()])


def _pins() -> dict[str, Requirement]:
    lines = layer.REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {canonicalize_name(requirement.name): requirement for requirement in requirements}


def _pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned"
    return specifier.version


def _installed(site: Path) -> dict[str, tuple[Version, list[str]]]:
    """Distribution name -> (version, Requires-Dist) read from the layer's dist-info metadata."""
    found = {}
    for metadata_path in site.glob("*.dist-info/METADATA"):
        metadata = Parser().parsestr(metadata_path.read_text(encoding="utf-8"), headersonly=True)
        requires = metadata.get_all("Requires-Dist") or []
        found[canonicalize_name(metadata["Name"])] = (Version(metadata["Version"]), requires)
    return found


def test_the_layer_unzipped_is_at_most_60_mib(arm64_layer: Path) -> None:
    size = layer.unzipped_size(arm64_layer)
    assert size <= SIZE_LIMIT, f"the layer is {size / 2**20:.1f} MiB unzipped"


def test_the_layer_holds_exactly_the_pinned_packages_and_no_command_line(arm64_layer: Path) -> None:
    installed, pins = _installed(arm64_layer), _pins()
    assert {name: str(version) for name, (version, _) in installed.items()} == {
        name: _pinned_version(requirement) for name, requirement in pins.items()
    }
    assert not COMMAND_LINE_ONLY & installed.keys()
    assert not (arm64_layer / "bin").exists()
    chalice = {path.name for path in (arm64_layer / "chalice").iterdir()} - {"__pycache__"}
    assert chalice == set(layer.CHALICE_RUNTIME_FILES)
    phonenumbers = {path.name for path in (arm64_layer / "phonenumbers").iterdir()}
    assert not {"geodata", "carrierdata", "tzdata"} & phonenumbers, "full phonenumbers instead of phonenumberslite"
    models = {path.name for path in (arm64_layer / "botocore" / "data").iterdir() if path.is_dir()}
    assert models == set(layer.BOTOCORE_SERVICES)


def test_the_pins_are_the_whole_closure_for_lambda(arm64_layer: Path) -> None:
    installed, pins = _installed(arm64_layer), _pins()
    unmet = []
    for name, (_, requires) in installed.items():
        if name == "chalice":
            continue  # its requirements serve its command line: see the next test
        extras = pins[name].extras or {""}
        for line in requires:
            requirement = Requirement(line)
            applies = requirement.marker is None or any(
                requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in extras
            )
            wanted = canonicalize_name(requirement.name)
            if applies and (wanted not in installed or installed[wanted][0] not in requirement.specifier):
                unmet.append(f"{name} needs {requirement}")
    assert unmet == [], "add these pins to layers/loyalty/requirements.txt"


def test_chalice_app_needs_only_the_standard_library(arm64_layer: Path) -> None:
    imported = set()
    for source in (arm64_layer / "chalice").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"chalice"}


def test_the_dev_lock_pins_the_same_runtime_versions() -> None:
    lock = {}
    for line in (ROOT / "requirements-dev.lock").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[canonicalize_name(name)] = version.strip()
    assert {name: lock.get(name) for name in _pins()} == {
        name: _pinned_version(requirement) for name, requirement in _pins().items()
    }


def test_every_binary_is_for_linux_on_arm64(arm64_layer: Path) -> None:
    binaries = 0
    for path in arm64_layer.rglob("*.so*"):
        header = path.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", path
        assert int.from_bytes(header[18:20], "little") == 183, f"{path} is not an AArch64 binary"  # EM_AARCH64
        assert re.search(r"\.(cpython-312-aarch64-linux-gnu|abi3)\.so$", path.name), path
        binaries += 1
    assert binaries >= 4  # pydantic_core, cryptography, cffi, wrapt


def test_every_module_has_python_3_12_bytecode_that_is_never_rechecked(arm64_layer: Path) -> None:
    magic = bytes.fromhex(layer.find_python312().magic)
    assert magic == PYTHON_312_MAGIC
    sources = list(arm64_layer.rglob("*.py"))
    missing, wrong = [], []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        if not compiled.exists():
            missing.append(source)
            continue
        header = compiled.read_bytes()[:8]
        if header[:4] != magic or int.from_bytes(header[4:8], "little") != PYC_UNCHECKED_HASH:
            wrong.append(compiled)
    assert missing == [] and wrong == []
    assert len(list(arm64_layer.rglob("*.pyc"))) == len(sources), "bytecode of another version or orphan pycs"


def _client_services(directory: Path) -> set[str]:
    """Service names in calls such as client("sqs"), boto3.client("sqs"), session.create_client("sqs")."""
    services = set()
    for source in directory.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("client", "create_client") and isinstance(node.args[0].value, str):
                services.add(node.args[0].value)
    return services


def test_the_kept_botocore_models_cover_every_client_the_code_names() -> None:
    named = _client_services(layer.PACKAGE) | _client_services(ROOT / "functions")
    assert named, "the scan found no client at all: it no longer matches how the code creates clients"
    assert named - set(layer.BOTOCORE_SERVICES) == set()


def _function_env(stack: Stack, spec: FunctionSpec, task_root: Path) -> dict[str, str]:
    local_aws = {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
    return lambda_environment(spec.logical_id, task_root, spec.environment, local_aws)


def _code_dir(spec: FunctionSpec) -> Path:
    return ROOT.joinpath(*spec.module.split(".")[:-1])


def test_every_handler_imports_with_only_the_layer_and_its_own_environment(host_layer: Path, stack: Stack) -> None:
    python = layer.find_python312().path

    def import_handler(spec: FunctionSpec) -> str | None:
        code = _code_dir(spec)
        try:
            result = probe(python, [code, host_layer], "app", _function_env(stack, spec, code), handler=spec.handler)
        except RuntimeError as exc:
            return f"{spec.logical_id}: {exc}"
        if not result.collecting_after_import:  # loaded with the collector off, and never turned it on
            return f"{spec.logical_id}: garbage collection is still off after the import"
        return None

    covered = {_code_dir(spec) for spec in stack.functions.values()}
    assert covered == {path.parent for path in (ROOT / "functions").glob("*/app.py")}
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [failure for failure in pool.map(import_handler, stack.functions.values()) if failure]
    assert failures == []


def test_a_purchase_is_served_end_to_end_by_the_layer_alone(host_layer: Path, stack: Stack) -> None:
    """DynamoDB through PynamoDB, Secrets Manager through Powertools, X-Ray: the first request of
    the till's busiest function, from the layer's code and bytecode only."""
    from loyalty.domain.access import Principal, Scope
    from loyalty.http.access import context_of

    from functions.admin.app import app as admin_app
    from functions.members.app import app as members_app

    merchant = GatewayClient(admin_app, {"Authorization": f"Bearer {ADMIN_TOKEN}"}).post(
        "/v1/admin/merchants", body={"name": "Layer"}
    )
    assert merchant.status == 201, merchant.body
    key, merchant_id, key_id = merchant.body["api_key"], merchant.body["merchant_id"], merchant.body["key_id"]
    member = GatewayClient(members_app, {"X-Api-Key": key}).post("/v1/members", body={"phone": "+79160000777"})
    assert member.status == 201, member.body

    spec = stack.functions["AccrueApiFunction"]
    events: list[dict[str, Any]] = [
        api_event(
            "POST",
            "/v1/purchases",
            body={"transaction_id": f"layer-{n}", "card_number": member.body["card_number"], "amount_kopecks": 250_000},
            headers={"X-Api-Key": key},
            authorizer={
                **context_of(Principal(merchant_id, "key", key_id, scope=Scope.FULL)),
                "principalId": merchant_id,
            },
        )
        for n in range(2)
    ]
    code = _code_dir(spec)
    result = probe(
        layer.find_python312().path,
        [code, host_layer],
        "app",
        _function_env(stack, spec, code),
        handler=spec.handler,
        events=events,
    )
    assert [call["status"] for call in result.calls] == [201, 201], result.calls
