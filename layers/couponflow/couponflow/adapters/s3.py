"""The one module that talks to S3: uploaded code files (presigned PUT, ranged reads), send failure
reports (CSV written in parts, then joined; presigned GET) and list exports (a multipart upload, a
part per step of the job)."""

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


def read(bucket: str, key: str) -> bytes:
    try:
        return client().get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        raise RetryableError(f"could not read {key}: {error}") from error


def read_range(bucket: str, key: str, start: int, length: int) -> bytes:
    """Bytes ``start`` .. ``start + length - 1`` of ``key`` (fewer at the end of the object)."""
    try:
        response = client().get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}")
        return response["Body"].read()
    except ClientError as error:
        raise RetryableError(f"could not read {key}: {error}") from error


def start_upload(bucket: str, key: str, *, filename: str) -> str:
    """Begin a multipart upload of a CSV; its id (parts of at least 5 MB but the last)."""
    try:
        answer = client().create_multipart_upload(
            Bucket=bucket,
            Key=key,
            ContentType="text/csv; charset=utf-8",
            ContentDisposition=f'attachment; filename="{filename}"',
        )
    except ClientError as error:
        raise RetryableError(f"could not start {key}: {error}") from error
    return str(answer["UploadId"])


def upload_part(bucket: str, key: str, upload_id: str, number: int, body: bytes) -> str:
    """Upload (or upload again: the same number replaces it) one part; its ETag."""
    try:
        answer = client().upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
    except ClientError as error:
        raise RetryableError(f"could not upload part {number} of {key}: {error}") from error
    return str(answer["ETag"])


def finish_upload(bucket: str, key: str, upload_id: str, etags: list[str]) -> None:
    """Join the parts (numbered from 1, in order) into the object; done already is fine (a retry
    after the join whose answer was lost)."""
    try:
        client().complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchUpload" and exists(bucket, key):
            return
        raise RetryableError(f"could not finish {key}: {error}") from error
