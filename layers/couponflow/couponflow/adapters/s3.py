"""The one module that talks to S3: uploaded code files (presigned PUT, ranged reads) and send failure
reports (CSV, presigned GET)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from couponflow.errors import RetryableError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

SEVEN_DAYS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live


@cache
def client() -> S3Client:
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def put_csv(bucket: str, key: str, body: bytes, *, filename: str) -> None:
    try:
        client().put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="text/csv; charset=utf-8",
            ContentDisposition=f'attachment; filename="{filename}"',
        )
    except ClientError as error:
        raise RetryableError(f"could not store {key}: {error}") from error


def presigned_get(bucket: str, key: str, expires_in: int = SEVEN_DAYS) -> str:
    """A GET link for ``key``; note it also ends when the signing credentials do (see the README)."""
    return client().generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
    )


def exists(bucket: str, key: str) -> bool:
    """True when ``key`` is in ``bucket`` (a HEAD; needs s3:GetObject)."""
    try:
        client().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise RetryableError(f"could not look up {key}: {error}") from error
    return True


def presigned_put(bucket: str, key: str, *, content_type: str, expires_in: int) -> str:
    """A PUT link that uploads ``key`` (the uploader must send the same Content-Type)."""
    return client().generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ContentType": content_type},
        ExpiresIn=expires_in,
    )


def read_range(bucket: str, key: str, start: int, length: int) -> bytes:
    """Bytes ``start`` .. ``start + length - 1`` of ``key`` (fewer at the end of the object)."""
    try:
        response = client().get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}")
        return response["Body"].read()
    except ClientError as error:
        raise RetryableError(f"could not read {key}: {error}") from error
