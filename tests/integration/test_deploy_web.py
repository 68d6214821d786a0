"""The deploy step of the web app, against moto's S3: what lands in the bucket, how it is cached,
and the config.json it writes from the stack's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from infra.deploy_web import IMMUTABLE, REVALIDATE, publish, sam_defaults, upload_plan, web_config

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-central-1.amazonaws.com/live",
    "WebAppUrl": "https://d111111abcdef8.cloudfront.net/app/",
    "WebAppBucketName": "loyalty-web",
    "WebAppDistributionId": "E2EXAMPLE",
}


def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>", encoding="utf-8")
    (tmp_path / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc.js").write_text("1", encoding="utf-8")
    (tmp_path / "assets" / "index-abc.js.map").write_text("{}", encoding="utf-8")
    (tmp_path / "assets" / "vendor-def.css").write_text("a{}", encoding="utf-8")
    return tmp_path


def test_the_app_calls_its_own_origin_which_forwards_the_api() -> None:
    assert web_config(OUTPUTS) == {
        "apiBaseUrl": "https://d111111abcdef8.cloudfront.net",
        "environment": "aws",
        "staffPool": None,
    }


def test_a_staff_user_pool_in_the_outputs_reaches_the_app() -> None:
    outputs = {**OUTPUTS, "StaffUserPoolId": "eu-central-1_AbC", "StaffUserPoolClientId": "client"}
    assert web_config(outputs)["staffPool"] == {
        "region": "eu-central-1",
        "userPoolId": "eu-central-1_AbC",
        "clientId": "client",
    }


def test_index_html_goes_last_and_source_maps_stay_home(tmp_path: Path) -> None:
    keys = [key for _, key, _ in upload_plan(built(tmp_path))]
    assert keys[-1] == "app/index.html"
    assert "app/assets/index-abc.js.map" not in keys
    assert set(keys) == {"app/index.html", "app/favicon.svg", "app/assets/index-abc.js", "app/assets/vendor-def.css"}


def test_published_files_carry_their_type_and_caching(tmp_path: Path, stack: object) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="loyalty-web", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    written = publish(built(tmp_path), "loyalty-web", web_config(OUTPUTS), s3)
    assert written[0] == "app/config.json"
    assert written[-1] == "app/index.html"
    config = s3.get_object(Bucket="loyalty-web", Key="app/config.json")
    assert json.loads(config["Body"].read())["apiBaseUrl"] == "https://d111111abcdef8.cloudfront.net"
    assert config["CacheControl"] == REVALIDATE
    asset = s3.head_object(Bucket="loyalty-web", Key="app/assets/index-abc.js")
    assert (asset["ContentType"], asset["CacheControl"]) == ("text/javascript", IMMUTABLE)
    page = s3.head_object(Bucket="loyalty-web", Key="app/index.html")
    assert (page["ContentType"], page["CacheControl"]) == ("text/html", REVALIDATE)


def test_the_stack_and_region_are_the_ones_make_deploy_uses() -> None:
    assert sam_defaults() == ("loyalty-prod", "eu-central-1")
