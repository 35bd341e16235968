"""Where the shared store is and how to reach it: ``s3://bucket/prefix`` plus the usual AWS settings.

Read once, from the same places the AWS CLI reads (so a team sets them once for every tool):

* credentials: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, else ``AWS_PROFILE`` and
  ``~/.aws/credentials``/``~/.aws/config``, else instance metadata -- whatever boto3's chain finds;
* endpoint: ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL`` (MinIO, Alibaba OSS, Tencent COS, a moto
  server); none means AWS S3 itself;
* region: ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's, else ``us-east-1``;
* addressing: ``QUANTDB_LAB_S3_ADDRESSING=path|virtual``; by default virtual-hosted for AWS, OSS
  (``*.aliyuncs.com``) and COS (``*.myqcloud.com``), which require it, and path-style for other endpoints
  (MinIO, moto), which expect it.

Both engines get these explicitly: boto3 (leases, heads, frames) and deltalake (commits), which does not read
``~/.aws`` itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlparse

from quantdb_lab.errors import StoreError

ADDRESSING_ENV = "QUANTDB_LAB_S3_ADDRESSING"
_VIRTUAL_HOSTS = (".amazonaws.com", ".aliyuncs.com", ".myqcloud.com")


_SECRET_OPTIONS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class StorageOptions(dict):
    """deltalake's options: a plain ``dict[str, str]`` whose repr never shows the secret key or session token."""

    def __repr__(self) -> str:
        shown = {k: ("***" if k in _SECRET_OPTIONS else v) for k, v in self.items()}
        return f"StorageOptions({shown!r})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class SharedConfig:
    """Where the shared store is and the credentials to reach it; its repr shows neither key (a notebook's
    output, a traceback or a log line must never carry them)."""

    bucket: str
    prefix: str  # no leading or trailing slash; may be empty
    endpoint: str | None
    region: str
    access_key: str | None = field(repr=False)
    secret_key: str | None = field(repr=False)
    session_token: str | None = field(repr=False)
    virtual_hosted: bool
    connect_timeout: float = 3.0
    read_timeout: float = 10.0

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, *parts: str) -> str:
        """An object key under the prefix."""
        return "/".join(p for p in (self.prefix, *parts) if p)

    def uri(self, *parts: str) -> str:
        return f"s3://{self.bucket}/{self.key(*parts)}"

    def storage_options(self) -> dict[str, str]:
        """deltalake (object_store) options: the same endpoint and credentials, bounded retries and timeouts."""
        options = StorageOptions({
            "AWS_REGION": self.region,
            "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "true" if self.virtual_hosted else "false",
            "conditional_put": "etag",  # commits are If-None-Match puts: safe concurrent writers, no DynamoDB
            "timeout": f"{int(self.read_timeout)}s",
            "connect_timeout": f"{int(self.connect_timeout)}s",
            "max_retries": "3",
            "retry_timeout": f"{int(self.read_timeout * 2)}s",
        })
        if self.endpoint:
            options["AWS_ENDPOINT_URL"] = self.endpoint
            if self.endpoint.startswith("http://"):
                options["AWS_ALLOW_HTTP"] = "true"
        if self.access_key and self.secret_key:
            options["AWS_ACCESS_KEY_ID"] = self.access_key
            options["AWS_SECRET_ACCESS_KEY"] = self.secret_key
        if self.session_token:
            options["AWS_SESSION_TOKEN"] = self.session_token
        return options


def parse_store_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix")."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StoreError(f"a shared store is named s3://bucket/prefix, not {url!r}")
    return parsed.netloc, parsed.path.strip("/")


def resolve_config(url: str, *, endpoint: str | None = None, region: str | None = None) -> SharedConfig:
    """The configuration for ``url`` from arguments, the environment and the AWS config files."""
    import boto3  # deferred: only a shared store needs it

    bucket, prefix = parse_store_url(url)
    session = boto3.Session()
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
    region = region or os.environ.get("AWS_REGION") or session.region_name or "us-east-1"
    credentials = session.get_credentials()
    frozen = credentials.get_frozen_credentials() if credentials is not None else None
    addressing = os.environ.get(ADDRESSING_ENV, "").strip().lower()
    if addressing not in ("", "path", "virtual"):
        raise StoreError(f"{ADDRESSING_ENV} must be 'path' or 'virtual', not {addressing!r}")
    if addressing:
        virtual = addressing == "virtual"
    else:
        host = (urlparse(endpoint).hostname or "") if endpoint else ".amazonaws.com"
        virtual = host.endswith(_VIRTUAL_HOSTS)
    return SharedConfig(
        bucket=bucket,
        prefix=prefix,
        endpoint=endpoint,
        region=region,
        access_key=frozen.access_key if frozen else None,
        secret_key=frozen.secret_key if frozen else None,
        session_token=frozen.token if frozen else None,
        virtual_hosted=virtual,
    )
