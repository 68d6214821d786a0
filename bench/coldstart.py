"""`make bench`, cold start (issue 15, goals 1 and 2): the layer's size, every handler's import time
as shipped next to `import boto3`, and the CPU of the first requests at the till after import.

    python -m bench.coldstart                    # the tables; BENCH_IMPORT_RUNS (default 5)
    python -m bench.coldstart --profile [accrue ...]   # python -X importtime per function, grouped
    python -m bench.coldstart --components             # what each library adds to `import boto3`

Everything runs under Python 3.12 in a fresh interpreter per measurement (infra.lambda_probe):
nothing on sys.path but the function's folder, copied as `sam build` ships it (no bytecode), and
the layer as `make layer` builds it, for this machine's architecture (arm64 binaries cannot load
on x86_64; the requirements, stripping and bytecode are the same). Runs of all targets alternate,
so each ratio compares measurements taken side by side. Times are the interpreter's CPU time
(time.process_time) around the import or the call: on this shared two-core machine wall time
mostly measures the neighbours, while a Lambda has its vCPU to itself. Lambda's environment is
imitated, tracing on (template.yaml: Tracing: Active), against the embedded moto.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra import layer
from infra.lambda_probe import ProbeResult, lambda_environment, probe
from infra.local import moto_patches
from infra.local.provision import REGION, FunctionSpec, Stack, provision, push_platform_parameters
from infra.local.stack import aws_environment
from tests.support.events import api_event

RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "5"))
IMPORT_GOAL = 1.3  # x `import boto3`
FIRST_REQUEST_GOAL_MS = 50.0  # CPU of the first request after import
SIZE_GOAL_MIB = 60.0
RESULTS = Path(__file__).with_name("last-coldstart.json")


@dataclass(frozen=True)
class Target:
    name: str  # functions/<name>, or "import boto3"
    functions: tuple[str, ...]  # the template's functions whose handler module it is
    module: str
    code: Path | None


def _start_aws() -> tuple[ThreadedMotoServer, Stack, dict[str, str]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    local_aws = aws_environment(f"http://{host}:{port}", "ERROR")
    os.environ.update(local_aws)
    session = boto3.session.Session(region_name=REGION)
    stack = provision(session, parameters={"NamePrefix": "", **push_platform_parameters(session)})
    os.environ.update(stack.environment())
    return server, stack, local_aws


def _code_folder(spec: FunctionSpec) -> str:
    return spec.module.split(".")[-2]  # functions.accrue.app -> accrue


def _targets(stack: Stack, shipped: Path) -> list[Target]:
    by_folder: dict[str, list[str]] = defaultdict(list)
    for spec in stack.functions.values():
        by_folder[_code_folder(spec)].append(spec.logical_id)
    targets = [Target("import boto3", (), "boto3", None)]
    for folder, functions in sorted(by_folder.items()):
        code = shipped / folder
        shutil.copytree(layer.ROOT / "functions" / folder, code, ignore=shutil.ignore_patterns("__pycache__"))
        targets.append(Target(folder, tuple(functions), "app", code))
    return targets


def _env(stack: Stack, target: Target, local_aws: dict[str, str]) -> dict[str, str]:
    spec = stack.functions[target.functions[0]] if target.functions else next(iter(stack.functions.values()))
    return lambda_environment(spec.logical_id, target.code or Path("/var/task"), spec.environment, local_aws)


def _sources_only(site: Path, scratch: Path) -> Path:
    """The same layer without its bytecode: what `sam build`'s python3.12 method shipped."""
    bare = scratch / "layer-without-bytecode" / "python"
    shutil.copytree(site, bare, ignore=shutil.ignore_patterns("__pycache__"))
    return bare


def measure_imports(
    python: str, site: Path, bare_site: Path, targets: list[Target], stack: Stack, local_aws: dict[str, str]
) -> list[dict[str, Any]]:
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _ in range(RUNS):  # round-robin: every target measured in every round, side by side
        for target in targets:
            for variant, path in (("bytecode", site), ("sources", bare_site)):
                paths = [target.code, path] if target.code else [path]
                result = probe(python, paths, target.module, _env(stack, target, local_aws))
                seconds[target.name, variant].append(result.import_cpu_seconds)
    baseline = statistics.median(seconds["import boto3", "bytecode"])
    rows = []
    for target in targets:
        median = statistics.median(seconds[target.name, "bytecode"])
        bare = statistics.median(seconds[target.name, "sources"])
        rows.append(
            {
                "target": target.name,
                "functions": list(target.functions),
                "import_ms": median * 1000,
                "ratio": median / baseline,
                "ratio_without_bytecode": bare / baseline,
                "met": median / baseline <= IMPORT_GOAL,
            }
        )
    return rows


def _till_scenarios() -> list[tuple[str, str, Any]]:
    """(label, function, events builder) for the till's read and writes, each first after import."""
    from loyalty import runtime
    from loyalty.api.members import EnrollRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.clock import utcnow
    from loyalty.config import CoreConfig
    from loyalty.domain.access import Principal, Scope
    from loyalty.http.access import context_of
    from loyalty.services import accrual, enrollment, merchants

    runtime.bootstrap(CoreConfig.from_env())
    cipher, now = runtime.current().cipher(), utcnow()
    merchant = merchants.create_merchant("Cold start", now)
    member = enrollment.enroll(merchant.merchant_id, EnrollRequest(phone="+79160000002"), now, cipher)
    accrual.accrue(
        merchant.merchant_id,
        PurchaseRequest(transaction_id="seed", member_id=member.member_id, amount_kopecks=10_000_000),
        now,
        cipher,
    )
    # what the merchant authorizer hands a route for the merchant's till key
    till_key = Principal(merchant.merchant_id, "key", "key_cold_start", scope=Scope.TILL)
    authorizer = {**context_of(till_key), "principalId": till_key.actor_id}
    card = member.card_number

    def purchase(tag: str) -> dict[str, Any]:
        body = {"transaction_id": f"cold-{tag}", "card_number": card, "amount_kopecks": 125_000}
        return api_event("POST", "/v1/purchases", body=body, authorizer=authorizer)

    def redemption(tag: str) -> dict[str, Any]:
        body = {"redemption_id": f"cold-{tag}", "card_number": card, "points": 1, "amount_kopecks": 10_000}
        return api_event("POST", "/v1/redemptions", body=body, authorizer=authorizer)

    def lookup(_tag: str) -> dict[str, Any]:
        return api_event("GET", "/v1/members", query={"card": card}, authorizer=authorizer)

    return [
        ("accrue: POST /v1/purchases (by card)", "AccrueApiFunction", purchase),
        ("redeem: POST /v1/redemptions (by card)", "RedeemFunction", redemption),
        ("members: GET /v1/members?card=", "MembersFunction", lookup),
    ]


def measure_first_requests(
    python: str, site: Path, targets: list[Target], stack: Stack, local_aws: dict[str, str]
) -> list[dict[str, Any]]:
    scenarios = _till_scenarios()
    by_function = {function: target for target in targets for function in target.functions}
    samples: dict[str, list[ProbeResult]] = defaultdict(list)
    for run in range(RUNS):
        for label, function, events in scenarios:
            target = by_function[function]
            spec = stack.functions[function]
            env = lambda_environment(function, target.code or Path("/var/task"), spec.environment, local_aws)
            result = probe(
                python,
                [target.code or Path("/var/task"), site],
                "app",
                env,
                handler=spec.handler,
                events=[events(f"{run}-first"), events(f"{run}-second")],
            )
            statuses = [call["status"] for call in result.calls]
            if any(status not in (200, 201) for status in statuses):
                raise RuntimeError(f"{label} answered {statuses}: {result.calls}")
            samples[label].append(result)
    rows = []
    for label, _, _ in scenarios:
        first = statistics.median(r.calls[0]["cpu_seconds"] for r in samples[label]) * 1000
        second = statistics.median(r.calls[1]["cpu_seconds"] for r in samples[label]) * 1000
        rows.append(
            {"request": label, "first_cpu_ms": first, "second_cpu_ms": second, "met": first <= FIRST_REQUEST_GOAL_MS}
        )
    return rows


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def print_tables(size_mib: float, imports: list[dict[str, Any]], requests: list[dict[str, Any]]) -> None:
    print(f"Cold start: Python 3.12, {platform.machine()} build of the layer, medians of {RUNS} fresh interpreters")
    print()
    print("| layer (arm64, as `make layer` and `sam build` build it) | unzipped | goal | met |")
    print("| --- | --- | --- | --- |")
    print(f"| LoyaltyLayer, Python 3.12 bytecode included | {size_mib:.1f} MiB | <= {SIZE_GOAL_MIB:g} MiB | ", end="")
    print(f"{_yes(size_mib <= SIZE_GOAL_MIB)} |")
    print()
    print("| handler module (functions) | import, CPU ms | x `import boto3` | goal | met | without bytecode |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in imports:
        if not row["functions"]:
            bare = row["ratio_without_bytecode"]
            print(f"| `import boto3` (the baseline) | {row['import_ms']:.0f} | 1.00 | | | {bare:.2f} |")
            continue
        functions = ", ".join(name.removesuffix("Function") for name in row["functions"])
        print(
            f"| {row['target']} ({functions}) | {row['import_ms']:.0f} | {row['ratio']:.2f} | <= {IMPORT_GOAL:g} "
            f"| {_yes(row['met'])} | {row['ratio_without_bytecode']:.2f} |"
        )
    print()
    print("| request at the till, first after import | CPU, ms | next request, ms | goal | met |")
    print("| --- | --- | --- | --- | --- |")
    for row in requests:
        print(
            f"| {row['request']} | {row['first_cpu_ms']:.0f} | {row['second_cpu_ms']:.0f} "
            f"| <= {FIRST_REQUEST_GOAL_MS:g} | {_yes(row['met'])} |"
        )


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def _group(module: str) -> str | None:
    """What a module's import time is charged to: a loyalty module by name, Powertools by utility,
    other packages by their top-level name; None for the standard library."""
    top = module.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names or top.startswith("_"):
        return None
    if top in ("loyalty", "app"):
        return module
    parts = module.split(".")
    if top == "aws_lambda_powertools" and len(parts) > 1:
        return ".".join(parts[: 3 if parts[1] == "utilities" and len(parts) > 2 else 2])
    return top


def group_importtime(report: str) -> list[tuple[str, float, int]]:
    """Self time of ``python -X importtime`` grouped (see ``_group``); a standard-library module is
    charged to the nearest importer that is not, as it is that importer's cost. (group, ms,
    modules), largest first."""
    lines = [match for line in report.splitlines() if (match := _IMPORTTIME.match(line))]
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    ancestors: list[tuple[int, str]] = []  # the report lists children before their parent
    for match in reversed(lines):
        depth, module = len(match.group(3)), match.group(4)
        while ancestors and ancestors[-1][0] >= depth:
            ancestors.pop()
        owner = _group(module) or next(
            (group for _, name in reversed(ancestors) if (group := _group(name))), "standard library"
        )
        ancestors.append((depth, module))
        totals[owner] += int(match.group(1)) / 1000
        counts[owner] += 1
    return sorted(((group, ms, counts[group]) for group, ms in totals.items()), key=lambda row: -row[1])


def profile(folders: list[str]) -> None:
    """Median self time per group (``group_importtime``) of each function's handler import, as a
    table with one column per function folder."""
    server, stack, local_aws = _start_aws()
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    try:
        python = layer.find_python312().path
        with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
            site = layer.build(Path(scratch) / "layer", layer.HOST_ARCHITECTURE[platform.machine().lower()])
            targets = [t for t in _targets(stack, Path(scratch)) if t.code and (t.name in folders or not folders)]
            for _ in range(RUNS):
                for target in targets:
                    env = _env(stack, target, local_aws)
                    result = probe(python, [target.code or site, site], "app", env, importtime=True)
                    seen = dict.fromkeys(groups, 0.0) | {g: ms for g, ms, _ in group_importtime(result.importtime)}
                    for group, ms in seen.items():
                        groups[group][target.name].append(ms)
    finally:
        server.stop()
    names = [target.name for target in targets]
    medians = {g: {n: statistics.median(by[n]) if by[n] else 0.0 for n in names} for g, by in groups.items()}
    print(f"Self import time (ms) charged to each module or package, median of {RUNS}, under -X importtime")
    print("| charged to | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for group, row in sorted(medians.items(), key=lambda item: -sum(item[1].values())):
        if max(row.values()) >= 3:
            print(f"| {group} | " + " | ".join(f"{row[n]:.0f}" for n in names) + " |")
    print("| **total** | " + " | ".join(f"{sum(m[n] for m in medians.values()):.0f}" for n in names) + " |")


# What each piece costs on top of `import boto3` (which every handler pays anyway, through
# botocore): each snippet runs after `import boto3` in a fresh interpreter, side by side.
COMPONENTS = {
    "pydantic: from pydantic import BaseModel": "from pydantic import BaseModel",
    "PynamoDB: import pynamodb.models": "import pynamodb.models",
    "Powertools Logger, Metrics": "from aws_lambda_powertools import Logger, Metrics\nLogger(); Metrics()",
    "Powertools Tracer() in Lambda (aws_xray_sdk, patching)": "from aws_lambda_powertools import Tracer\nTracer()",
    "Powertools batch (BatchProcessor)": "from aws_lambda_powertools.utilities.batch import BatchProcessor",
    "Powertools data classes (SQSRecord)": "from aws_lambda_powertools.utilities.data_classes import SQSRecord",
    "Powertools parameters": "from aws_lambda_powertools.utilities import parameters",
    "phonenumbers": "import phonenumbers",
    "PyJWT (imports cryptography's asymmetric keys)": "import jwt",
    "cryptography AES-GCM": "from cryptography.hazmat.primitives.ciphers.aead import AESGCM",
    "chalice.app": "import chalice.app",
    "loyalty.domain.program (pydantic models)": "import loyalty.domain.program",
    "first DynamoDB client (one botocore session)": "import botocore.session\n"
    "botocore.session.get_session().create_client('dynamodb')",
    "four DynamoDB clients, a session each (PynamoDB: one per model)": "import botocore.session\n"
    "for _ in range(4): botocore.session.get_session().create_client('dynamodb')",
}
# Without `import boto3` in front: what a handler that needs only botocore would start from.
WITHOUT_BOTO3 = {
    "botocore alone, instead of boto3": "import botocore.session",
    "the floor of a lean HTTP handler: botocore, pydantic, PynamoDB, chalice.app, Logger, Metrics": (
        "import botocore.session, pynamodb.models, chalice.app\nfrom pydantic import BaseModel\n"
        "from aws_lambda_powertools import Logger, Metrics\nLogger(); Metrics()"
    ),
}


def measure_components(python: str, site: Path, scratch: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    snippets = scratch / "components"
    snippets.mkdir()
    modules = {"import boto3": "snippet_0"}
    (snippets / "snippet_0.py").write_text("import boto3\n", encoding="utf-8")
    snippets_code = {label: f"import boto3\n{code}" for label, code in COMPONENTS.items()} | WITHOUT_BOTO3
    for n, (label, code) in enumerate(snippets_code.items(), start=1):
        modules[label] = f"snippet_{n}"
        (snippets / f"snippet_{n}.py").write_text(f"{code}\n", encoding="utf-8")
    seconds: dict[str, list[float]] = defaultdict(list)
    for _ in range(RUNS):
        for label, module in modules.items():
            seconds[label].append(probe(python, [snippets, site], module, env).import_cpu_seconds)
    baseline = statistics.median(seconds["import boto3"])
    return [
        {"component": label, "extra_ms": (statistics.median(seconds[label]) - baseline) * 1000}
        | {"share_of_boto3": statistics.median(seconds[label]) / baseline - 1}
        for label in snippets_code
    ]


def components() -> None:
    server, stack, local_aws = _start_aws()
    try:
        python = layer.find_python312().path
        with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
            site = layer.build(Path(scratch) / "layer", layer.HOST_ARCHITECTURE[platform.machine().lower()])
            spec = stack.functions["AccrueApiFunction"]
            env = lambda_environment(spec.logical_id, Path(scratch), spec.environment, local_aws)
            rows = measure_components(python, site, Path(scratch), env)
    finally:
        server.stop()
    print(f"What each piece adds to `import boto3` (Python 3.12, bytecode, CPU time, median of {RUNS})")
    print("| on top of `import boto3` (the last two: instead of it) | CPU ms | x boto3 |")
    print("| --- | --- | --- |")
    for row in rows:
        print(f"| {row['component']} | {row['extra_ms']:+.0f} | {row['share_of_boto3']:+.2f} |")


def main() -> None:
    server, stack, local_aws = _start_aws()
    try:
        python = layer.find_python312().path
        arm64 = layer.build(layer.ROOT / "build" / "layer", "arm64")
        size_mib = layer.unzipped_size(arm64) / 2**20
        with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
            site = layer.build(Path(scratch) / "layer", layer.HOST_ARCHITECTURE[platform.machine().lower()])
            targets = _targets(stack, Path(scratch))
            imports = measure_imports(python, site, _sources_only(site, Path(scratch)), targets, stack, local_aws)
            requests = measure_first_requests(python, site, targets, stack, local_aws)
    finally:
        server.stop()
    print_tables(size_mib, imports, requests)
    RESULTS.write_text(
        json.dumps({"layer_mib": size_mib, "imports": imports, "first_requests": requests}, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", nargs="*", metavar="FOLDER", help="-X importtime, grouped (all when none named)")
    parser.add_argument("--components", action="store_true", help="what each library adds to `import boto3`")
    arguments = parser.parse_args()
    if arguments.components:
        components()
    elif arguments.profile is not None:
        profile(arguments.profile)
    else:
        main()
