"""Files in the files bucket (imports, exports, error reports): presigned URLs for clients, and
reading and writing for the jobs worker.

Presigned URLs carry the endpoint the S3 client was made with: in AWS the regional S3 endpoint,
locally the moto server's address, which any process on the machine can reach. Path-style
addressing keeps them valid for an endpoint that is an IP address and port.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from botocore.config import Config

from loyalty.platform.aws import session

UPLOAD_SECONDS = 3600
DOWNLOAD_SECONDS = 3600
CSV = "text/csv; charset=utf-8"


@cache
def _s3() -> Any:
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=30,
        s3={"addressing_style": "path"},
        signature_version="s3v4",
    )
    return session().create_client("s3", config=config)


def upload_url(bucket: str, key: str) -> str:
    return str(
        _s3().generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key, "ContentType": "text/csv"}, ExpiresIn=UPLOAD_SECONDS
        )
    )


def download_url(bucket: str, key: str, filename: str) -> str:
    return str(
        _s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=DOWNLOAD_SECONDS,
        )
    )


def size(bucket: str, key: str) -> int | None:
    """The object's size in bytes, None if there is no such object."""
    try:
        return int(_s3().head_object(Bucket=bucket, Key=key)["ContentLength"])
    except _s3().exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read_lines(bucket: str, key: str, offset: int = 0) -> Iterator[bytes]:
    """The object's lines from byte ``offset`` on, each with its line ending, as stored (none
    when ``offset`` is the end: a file whose last chunk ended exactly at its last line)."""
    if offset:
        try:
            body = _s3().get_object(Bucket=bucket, Key=key, Range=f"bytes={offset}-")["Body"]
        except _s3().exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return iter(())
            raise
    else:
        body = _s3().get_object(Bucket=bucket, Key=key)["Body"]
    return body.iter_lines(chunk_size=256 * 1024, keepends=True)  # type: ignore[no-any-return]


def head_bytes(bucket: str, key: str, count: int) -> bytes:
    body = _s3().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{count - 1}")["Body"]
    return body.read()  # type: ignore[no-any-return]


def put(bucket: str, key: str, body: bytes) -> None:
    _s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType=CSV)


def start_multipart(bucket: str, key: str) -> str:
    return str(_s3().create_multipart_upload(Bucket=bucket, Key=key, ContentType=CSV)["UploadId"])


def upload_part(bucket: str, key: str, upload_id: str, number: int, body: bytes) -> str:
    """Part ``number`` (uploading it again replaces it); returns its ETag."""
    reply = _s3().upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
    return str(reply["ETag"])


def finish_multipart(bucket: str, key: str, upload_id: str, etags: list[str]) -> None:
    parts = [{"PartNumber": number, "ETag": etag} for number, etag in enumerate(etags, start=1)]
    _s3().complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
