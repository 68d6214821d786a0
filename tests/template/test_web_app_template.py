"""The merchant web app in AWS: a private bucket read only by its CloudFront distribution through
origin access control, the API on the same origin, and the routing function that lets the app's
own paths reach index.html (run here in Node, as CloudFront would run it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from infra.template import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def test_the_bucket_is_private_encrypted_and_read_only_by_the_distribution() -> None:
    bucket = RESOURCES["WebAppBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = RESOURCES["WebAppBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [read] = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert "${WebAppDistribution}" in read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]


def test_the_distribution_signs_its_reads_and_serves_the_api_on_the_same_origin() -> None:
    config = RESOURCES["WebAppDistribution"]["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    assert origins["web-app"]["OriginAccessControlId"] == {"Fn::GetAtt": ["WebAppOriginAccessControl", "Id"]}
    assert origins["web-app"]["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI
    oac = RESOURCES["WebAppOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"]) == ("always", "sigv4")
    assert origins["api"]["OriginPath"] == "/" + RESOURCES["LoyaltyApi"]["Properties"]["StageName"]
    [api] = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/v1/*"]
    assert api["TargetOriginId"] == "api"
    assert set(api["AllowedMethods"]) >= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # never cache answers
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_the_app_url_and_what_the_deploy_step_needs_are_outputs() -> None:
    assert {"WebAppUrl", "WebAppBucketName", "WebAppDistributionId", "ApiUrl"} <= set(TEMPLATE["Outputs"])


def _route(uri: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed (the web app needs it too: see README)")
    code = RESOURCES["WebAppRouting"]["Properties"]["FunctionCode"]
    script = f"{code}\nconsole.log(JSON.stringify(handler({{request: {{uri: {json.dumps(uri)}}}}})));"
    run = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True, timeout=30)
    return dict(json.loads(run.stdout))


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/app/till", "/app/index.html"),
        ("/app/members/mbr_123", "/app/index.html"),
        ("/app/", "/app/index.html"),
        ("/app/assets/index-abc.js", "/app/assets/index-abc.js"),
        ("/app/config.json", "/app/config.json"),
    ],
)
def test_the_apps_own_routes_get_index_html_and_files_stay_files(uri: str, expected: str) -> None:
    assert _route(uri)["uri"] == expected


def test_the_bare_domain_and_app_redirect_to_the_app() -> None:
    for uri in ("/", "/app"):
        reply = _route(uri)
        assert reply["statusCode"] == 301
        assert reply["headers"]["location"]["value"] == "/app/"
