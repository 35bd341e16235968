"""The shared (team) store on S3-compatible object storage; needs the ``team`` extra (deltalake, boto3).

``SharedStore.from_url("s3://bucket/prefix")`` reads the endpoint and credentials from the environment and the
AWS config files (see ``config``). Imported only when a shared store is asked for.
"""

from quantdb_lab.store.shared.config import SharedConfig, resolve_config
from quantdb_lab.store.shared.delta_store import SharedStore
from quantdb_lab.store.shared.retry import RetryPolicy

__all__ = ["SharedConfig", "SharedStore", "RetryPolicy", "resolve_config"]
