"""Plain object operations on the shared bucket (boto3), each under the retrier: JSON, bytes, conditional puts.

JSON is the only structured format written here (no pickles: a shared bucket must not be a code-execution
hole for everyone who reads it); what is read back is checked by ``validate`` before it is believed. Conditional puts are S3's ``If-None-Match: *`` (create only) and
``If-Match: <etag>`` (replace only what was read); a failed condition is a normal answer, ``Conflict``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from quantdb_lab.errors import StoreError, StoreUnavailableError
from quantdb_lab.store.shared.config import SharedConfig
from quantdb_lab.store.shared.retry import Retrier

_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_REFUSAL_CODES = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "403"})


class Conflict(Exception):
    """A conditional put or delete found the object changed (or present, or absent)."""


class Missing(Exception):
    """No object under that key."""


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return code if code and code not in ("", "None") else status


def make_client(config: SharedConfig) -> Any:
    import boto3
    from botocore.config import Config

    boto_config = Config(
        region_name=config.region,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        retries={"total_max_attempts": 1, "mode": "standard"},  # our Retrier owns retries, so faults are counted once
        s3={"addressing_style": "virtual" if config.virtual_hosted else "path"},
        max_pool_connections=32,
    )
    return boto3.client(
        "s3",
        endpoint_url=config.endpoint,
        aws_access_key_id=config.access_key,
        aws_secret_access_key=config.secret_key,
        aws_session_token=config.session_token,
        config=boto_config,
    )


class ObjectClient:
    def __init__(self, config: SharedConfig, retrier: Retrier) -> None:
        self.config = config
        self.retrier = retrier
        self._s3 = make_client(config)
        self.requests = 0  # requests attempted (retries included), for the cost model and tests

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        def attempt() -> Any:
            self.requests += 1
            return fn(Bucket=self.config.bucket, **kwargs)

        try:
            return self.retrier.call(what, attempt)
        except StoreUnavailableError:
            raise
        except Exception as exc:
            code = _code(exc)
            if code in _CONFLICT_CODES:
                raise Conflict(what) from exc
            if code in _REFUSAL_CODES:
                raise StoreUnavailableError(
                    f"the shared store refused {what} ({code}): check the bucket and credentials", retryable=False
                ) from exc
            if code in _MISSING_CODES:
                raise Missing(what) from exc
            raise StoreError(f"the shared store failed {what}: {type(exc).__name__}: {exc}") from exc

    # -- reading -----------------------------------------------------------------------------------------
    def get_bytes(self, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None when there is none."""
        try:
            # The body is read inside the retried call: a connection dropped mid-body is retried too.
            return self._call(f"GET {key}", lambda **kw: self._read(self._s3.get_object(**kw)), Key=key)
        except Missing:
            return None

    @staticmethod
    def _read(response: dict) -> tuple[bytes, str]:
        return response["Body"].read(), response["ETag"]

    def list_keys(self, prefix: str) -> Iterator[str]:
        token = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call(f"LIST {prefix}", self._s3.list_objects_v2, Prefix=prefix, **extra)
            for item in page.get("Contents", []):
                yield item["Key"]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def list_etags(self, prefix: str) -> dict[str, str]:
        """Every key under ``prefix`` with its ETag (one request per 1,000 keys)."""
        token, out = None, {}
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call(f"LIST {prefix}", self._s3.list_objects_v2, Prefix=prefix, **extra)
            for item in page.get("Contents", []):
                out[item["Key"]] = item["ETag"]
            if not page.get("IsTruncated"):
                return out
            token = page["NextContinuationToken"]

    # -- writing -----------------------------------------------------------------------------------------
    def put_bytes(self, key: str, body: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """Put ``body``; with ``if_absent`` only when no object exists, with ``if_match`` only over that ETag."""
        kwargs: dict[str, Any] = {"Key": key, "Body": body}
        if if_absent:
            kwargs["IfNoneMatch"] = "*"
        if if_match:
            kwargs["IfMatch"] = if_match
        return self._call(f"PUT {key}", self._s3.put_object, **kwargs)["ETag"]

    def put_json(self, key: str, data: dict, **conditions: Any) -> str:
        return self.put_bytes(key, json.dumps(data, sort_keys=True).encode(), **conditions)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        kwargs: dict[str, Any] = {"Key": key}
        if if_match:
            kwargs["IfMatch"] = if_match
        try:
            self._call(f"DELETE {key}", self._s3.delete_object, **kwargs)
        except Missing:
            pass

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self.list_keys(prefix))
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._call(f"DELETE {prefix}*", self._s3.delete_objects, Delete={"Objects": batch, "Quiet": True})
        return len(keys)
