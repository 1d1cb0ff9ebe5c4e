"""boto3 loading and AWS error reading, shared by the WorkMail and SES glue.

boto3 is imported only when a client has to be created, so ``import mimeguard``
never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# botocore's own lists (retries/standard.py), so a throttled call is recognised
# whichever service answers.
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

_CLIENTS: dict[str, Any] = {}


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise ImportError(
            "mimeguard.workmail needs boto3, which mimeguard does not install by default: "
            "pip install 'mimeguard[aws]'"
        ) from exc
    return boto3


def _default_client(service: str) -> Any:
    """A boto3 client cached per Lambda container, with botocore's retries off
    (:func:`process` retries within its own time budget) and short timeouts."""
    client = _CLIENTS.get(service)
    if client is None:
        boto3 = _boto3()
        from botocore.config import Config

        config = Config(
            connect_timeout=2,
            read_timeout=10,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        client = _CLIENTS[service] = boto3.client(service, config=config)
    return client


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and error.get("Code"):
            return str(error["Code"])
    return None


def _error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and error.get("Message"):
            return str(error["Message"])
    return str(exc)


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        meta = response.get("ResponseMetadata")
        if isinstance(meta, Mapping) and isinstance(meta.get("HTTPStatusCode"), int):
            return int(meta["HTTPStatusCode"])
    return None


def _transient_exceptions() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - botocore comes with boto3
        return (ConnectionError, TimeoutError)
    return (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError)


def _retryable(exc: BaseException) -> bool:
    code = _error_code(exc)
    if code is not None:
        return code in _THROTTLING_CODES or _http_status(exc) in _RETRY_STATUS
    return isinstance(exc, _transient_exceptions())
