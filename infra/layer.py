"""Builds the shared Lambda layer as Lambda loads it: `make layer`, and `sam build` through
layers/loyalty/Makefile (template.yaml: BuildMethod makefile).

    python -m infra.layer [--arch arm64|x86_64] [--out DIR]

- Only CPython 3.12 manylinux2014 wheels for the target architecture, installed with ``--no-deps``
  from layers/loyalty/requirements.txt, which pins the whole closure: nothing is resolved at build
  time, and Chalice comes without its command line's dependencies (Lambda imports ``chalice.app``,
  which needs only the standard library).
- Stripped of what Lambda never loads: botocore's models of services the code does not call (and
  their entries in endpoints.json, which botocore parses whole for a session's first client), API
  examples, Chalice's command line, console scripts.
- Compiled to Python 3.12 bytecode (by a 3.12 interpreter: another version's bytecode is ignored)
  with unchecked hashes: /opt is read-only, so bytecode that Python judged stale would be compiled
  again at every cold start, and zip archives keep timestamps only to two seconds.

The third-party part depends only on the requirements, this file, the architecture and the
interpreter's bytecode format; it is cached under build/layer-cache, so a rebuild copies it and
compiles just the loyalty package.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "loyalty"
REQUIREMENTS = LAYER_SOURCE / "requirements.txt"
PACKAGE = LAYER_SOURCE / "loyalty"
CACHE = ROOT / "build" / "layer-cache"
DEFAULT_OUT = ROOT / "build" / "layer"

RUNTIME = (3, 12)  # template.yaml: Runtime python3.12
ARCHITECTURES = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
HOST_ARCHITECTURE = {"aarch64": "arm64", "arm64": "arm64", "x86_64": "x86_64", "amd64": "x86_64"}

# The AWS services whose clients the code creates (loyalty.platform.aws.client, PynamoDB,
# Powertools' Parameters for secrets, and the X-Ray SDK's sampling client, made at import).
# botocore ships models of about 450; these keep 2 % of its 28 MB of data. tests/build checks that
# every client the code names is here and imports and calls handlers from the built layer.
BOTOCORE_SERVICES = (
    "apigateway",
    "cognito-idp",
    "dynamodb",
    "events",
    "s3",
    "secretsmanager",
    "sesv2",
    "sns",
    "sqs",
    "xray",
)
# Chalice's own deployment packager ships only these: app.py is standalone by design.
CHALICE_RUNTIME_FILES = ("__init__.py", "app.py", "py.typed")


class LayerBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Interpreter:
    path: str
    magic: str  # the bytecode format (importlib.util.MAGIC_NUMBER), part of the cache key


def find_python312() -> Interpreter:
    """A CPython 3.12 to compile bytecode with: $LAYER_PYTHON, python3.12 on PATH, or pyenv's."""
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [
        os.environ.get("LAYER_PYTHON"),
        shutil.which("python3.12"),
        *sorted(glob.glob(f"{pyenv_root}/versions/3.12*/bin/python3.12"), reverse=True),
        "/usr/local/bin/python3.12",
        "/usr/bin/python3.12",
    ]
    probe = "import importlib.util, sys; print(sys.version_info[:2] == (3, 12), importlib.util.MAGIC_NUMBER.hex())"
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        result = subprocess.run([candidate, "-I", "-c", probe], capture_output=True, text=True, check=False)
        is_312, _, magic = result.stdout.strip().partition(" ")
        if result.returncode == 0 and is_312 == "True":
            return Interpreter(candidate, magic)
    raise LayerBuildError(
        "no Python 3.12 found to compile the layer's bytecode (Lambda runs python3.12): install one "
        "(e.g. `pyenv install 3.12`) or point LAYER_PYTHON at it"
    )


def _cache_key(arch: str, python: Interpreter) -> str:
    digest = hashlib.sha256()
    for part in (REQUIREMENTS.read_bytes(), Path(__file__).read_bytes(), arch.encode(), python.magic.encode()):
        digest.update(hashlib.sha256(part).digest())
    return f"{arch}-{digest.hexdigest()[:16]}"


def _install(target: Path, arch: str) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-compile", "--only-binary=:all:", "--implementation", "cp",
        "--python-version", f"{RUNTIME[0]}.{RUNTIME[1]}", "--platform", ARCHITECTURES[arch],
        "--target", str(target), "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerBuildError(f"pip could not install the layer's requirements:\n{result.stderr}")


def _strip(site: Path) -> None:
    for path in (site / "bin", *site.rglob("__pycache__")):
        shutil.rmtree(path, ignore_errors=True)
    models = site / "botocore" / "data"
    for entry in models.iterdir():
        if entry.is_dir() and entry.name not in BOTOCORE_SERVICES:
            shutil.rmtree(entry)
    for example in models.rglob("examples-1.json"):
        example.unlink()
    _trim_endpoints(models)
    for entry in (site / "chalice").iterdir():
        if entry.name not in CHALICE_RUNTIME_FILES:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _trim_endpoints(models: Path) -> None:
    """endpoints.json lists every region of every AWS service (1.2 MB of JSON): botocore parses it
    for the first client of a session, ~30 ms of every cold start. Only the partitions and the
    entries of the services kept above can ever be read: keep those."""
    kept = set(BOTOCORE_SERVICES)
    for service_model in models.glob("*/*/service-2.json.gz"):
        with gzip.open(service_model) as handle:  # an entry is named by the service's endpoint prefix
            kept.add(json.load(handle)["metadata"]["endpointPrefix"])
    path = models / "endpoints.json"
    endpoints = json.loads(path.read_bytes())
    for partition in endpoints["partitions"]:
        partition["services"] = {name: entry for name, entry in partition["services"].items() if name in kept}
    path.write_text(json.dumps(endpoints, separators=(",", ":")), encoding="utf-8")


def compile_bytecode(directory: Path, python: Interpreter) -> None:
    command = [python.path, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    result = subprocess.run([*command, str(directory)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerBuildError(f"compileall failed in {directory}:\n{result.stdout}{result.stderr}")


def dependencies(arch: str, python: Interpreter) -> Path:
    """The installed, stripped and compiled third-party packages (cached)."""
    key = _cache_key(arch, python)
    cached = CACHE / key
    if cached.is_dir():
        return cached
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=CACHE))
    try:
        _install(staging / "python", arch)
        _strip(staging / "python")
        compile_bytecode(staging / "python", python)
        try:
            staging.rename(cached)
        except OSError:  # another build finished the same key first: same content
            shutil.rmtree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for stale in CACHE.glob(f"{arch}-*"):  # earlier requirements: keep the cache one entry per arch
        if stale.name != key and "." not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
    return cached


def build(out: Path, arch: str = "arm64") -> Path:
    """Writes the layer to ``out/python`` (Lambda puts a layer's ``python/`` on sys.path)."""
    python = find_python312()
    site = out / "python"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(dependencies(arch, python) / "python", site, symlinks=True)
    shutil.copytree(PACKAGE, site / "loyalty", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compile_bytecode(site / "loyalty", python)
    return site


def unzipped_size(directory: Path) -> int:
    """Bytes as Lambda counts them against its 250 MB limit: the sum of the files' sizes."""
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file() and not path.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="arm64")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    try:
        site = build(args.out.resolve(), args.arch)
    except LayerBuildError as exc:
        raise SystemExit(f"layer build failed: {exc}") from exc
    print(f"layer ({args.arch}, python3.12): {site}, {unzipped_size(site) / 2**20:.1f} MiB unzipped")


if __name__ == "__main__":
    main()
