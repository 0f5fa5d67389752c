"""Photos in an S3-compatible bucket (AWS S3, MinIO, Ceph, Alibaba OSS / Tencent COS
in S3 mode), through boto3."""

from __future__ import annotations

from core.storage.base import PhotoNotFound


class S3Storage:
    def __init__(self, *, endpoint_url: str, bucket: str, access_key_id: str, secret_access_key: str,
                 region: str = "us-east-1") -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or "us-east-1",
            # Path-style addressing works with every S3-compatible server (no bucket DNS names).
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30),
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise PhotoNotFound(key) from exc
            raise
        return response["Body"].read()

    def delete(self, key: str) -> None:
        # S3 answers 204 for a key that does not exist: deleting twice is fine.
        self.client.delete_object(Bucket=self.bucket, Key=key)
