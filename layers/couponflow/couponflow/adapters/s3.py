"""The one module that talks to S3: uploaded code files (presigned PUT, ranged reads)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from couponflow.errors import RetryableError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


@cache
def client() -> S3Client:
    return boto3.client("s3", config=Config(signature_version="s3v4"))


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
