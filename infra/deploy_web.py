"""``make deploy-web``: put the built web app (web/dist) into the stack's bucket and tell it where
the API is.

After ``sam deploy``, this reads the stack's outputs, writes app/config.json (the API's base URL:
the distribution's own origin, which forwards /v1/* to the API; later the staff user pool),
uploads every file with its content type and caching (hashed assets for a year, index.html and
config.json revalidated), index.html last so it never names an asset not yet there, and
invalidates the two files that change in place.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import tomllib
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
WEB_DIST = ROOT / "web" / "dist"
PREFIX = "app/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def web_config(outputs: Mapping[str, str]) -> dict[str, Any]:
    """config.json from the stack's outputs. The app calls its own origin (the distribution routes
    /v1/* to the API); staff sign-in arrives here once the template has a user pool."""
    app_url = outputs["WebAppUrl"].rstrip("/")
    origin = app_url.removesuffix("/app")
    pool = None
    if {"StaffUserPoolId", "StaffUserPoolClientId"} <= set(outputs):
        pool = {
            "region": outputs["StaffUserPoolId"].split("_", 1)[0],
            "userPoolId": outputs["StaffUserPoolId"],
            "clientId": outputs["StaffUserPoolClientId"],
        }
    return {"apiBaseUrl": origin, "environment": "aws", "staffPool": pool}


def _content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def upload_plan(dist: Path) -> list[tuple[Path, str, str]]:
    """(file, key, Cache-Control) for every built file; index.html last."""
    files = sorted(p for p in dist.rglob("*") if p.is_file() and p.suffix != ".map")
    plan = [
        (path, PREFIX + path.relative_to(dist).as_posix(), IMMUTABLE if path.parent.name == "assets" else REVALIDATE)
        for path in files
        if path.name != "index.html" or path.parent != dist
    ]
    return [*plan, (dist / "index.html", PREFIX + "index.html", REVALIDATE)]


def publish(dist: Path, bucket: str, config: Mapping[str, Any], s3: Any) -> list[str]:
    """Uploads the build and config.json; returns the keys written, in order."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist} has no index.html: run `make web` first")
    written = []
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "config.json",
        Body=json.dumps(config).encode(),
        ContentType="application/json",
        CacheControl=REVALIDATE,
    )
    written.append(PREFIX + "config.json")
    for path, key, cache in upload_plan(dist):
        body = path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=_content_type(path), CacheControl=cache)
        written.append(key)
    return written


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def sam_defaults(path: Path = ROOT / "samconfig.toml") -> tuple[str, str]:
    """The stack name and region `make deploy` used (samconfig.toml)."""
    config = tomllib.loads(path.read_text(encoding="utf-8"))["default"]
    return config["global"]["parameters"]["stack_name"], config["deploy"]["parameters"]["region"]


def main(argv: list[str] | None = None) -> int:
    default_stack, default_region = sam_defaults()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=default_stack)
    parser.add_argument("--region", default=default_region)
    parser.add_argument("--dist", type=Path, default=WEB_DIST)
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    config = web_config(outputs)
    written = publish(args.dist, outputs["WebAppBucketName"], config, session.client("s3"))
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["WebAppDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/app/index.html", "/app/config.json"]},
            "CallerReference": f"deploy-web-{uuid.uuid4().hex}",
        },
    )
    print(f"uploaded {len(written)} files; the app is at {outputs['WebAppUrl']} (API via {config['apiBaseUrl']}/v1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
