"""Run handler.py on a local .eml, without AWS: WorkMail's message flow API and S3 are stubbed.

    python try_locally.py                       # ../clean-alternative.eml
    python try_locally.py message.eml -o edited.eml
    MIMEGUARD_SUBJECT_PREFIX="[External] " python try_locally.py message.eml

The function is configured as in template.yaml, by ``MIMEGUARD_*`` environment
variables (the template's default disclaimer is used when none is set).  moto
cannot serve the WorkMail message flow API, so a stub ``boto3`` stands in for
the real one: ``GetRawMessageContent`` returns the file, ``PutObject`` keeps
the edited message in memory, ``PutRawMessageContent`` reads it back from
there.  The script prints the JSON log line the function writes (as
CloudWatch would show it), the rule's answer, and the edited message.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_MESSAGE = HERE.parent / "clean-alternative.eml"
DEFAULT_DISCLAIMER = (
    "CAUTION: This email came from outside the organization. Do not click links or open "
    "attachments unless you recognise the sender."
)
MESSAGE_ID = "00000000-0000-0000-0000-000000000000"


class ServiceError(Exception):
    """What botocore's ClientError looks like to mimeguard.workmail: ``.response``."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"An error occurred ({code}) when calling the {operation} operation")
        self.response = {"Error": {"Code": code, "Message": message}}


class Services:
    """The three calls the function makes, against a message file and an in-memory bucket."""

    def __init__(self, message: bytes, region: str = "us-east-1") -> None:
        self.message = message
        self.objects: dict[tuple[str, str], bytes] = {}
        self.delivered: bytes | None = None
        self.meta = types.SimpleNamespace(region_name=region)

    # workmailmessageflow
    def get_raw_message_content(self, *, messageId: str) -> dict[str, Any]:  # noqa: N803 - AWS
        if messageId != MESSAGE_ID:
            raise ServiceError("GetRawMessageContent", "ResourceNotFoundException", messageId)
        return {"messageContent": io.BytesIO(self.message)}

    def put_raw_message_content(self, *, messageId: str, content: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ref = content["s3Reference"]
        stored = self.objects.get((ref["bucket"], ref["key"]))
        if stored is None:
            raise ServiceError("PutRawMessageContent", "InvalidContentLocation", str(ref))
        self.delivered = stored
        return {}

    # s3
    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:  # noqa: N803
        self.objects[(Bucket, Key)] = bytes(Body)
        return {"ETag": '"local"'}


def install_stub(services: Services) -> None:
    """Make ``import boto3`` (and botocore's Config, when botocore is absent) the stub."""
    stub = types.ModuleType("boto3")
    stub.client = lambda service, **_: services  # type: ignore[attr-defined]
    sys.modules["boto3"] = stub
    try:
        import botocore.config  # noqa: F401 - the real one is fine: it makes no calls
    except ImportError:
        config = types.ModuleType("botocore.config")
        config.Config = lambda **kwargs: kwargs  # type: ignore[attr-defined]
        package = types.ModuleType("botocore")
        package.config = config  # type: ignore[attr-defined]
        sys.modules["botocore"] = package
        sys.modules["botocore.config"] = config


class Context:
    """The parts of the Lambda context the function reads."""

    aws_request_id = "local-request"
    function_name = "DisclaimerFunction"
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:DisclaimerFunction"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("message", nargs="?", type=Path, default=DEFAULT_MESSAGE)
    parser.add_argument("-o", "--output", type=Path, help="write the edited message here")
    parser.add_argument("--event", type=Path, default=HERE / "event.json")
    args = parser.parse_args(argv)

    os.environ.setdefault("MIMEGUARD_BUCKET", "local-bucket")
    os.environ.setdefault("MIMEGUARD_DISCLAIMER_TEXT", DEFAULT_DISCLAIMER)
    services = Services(args.message.read_bytes())
    install_stub(services)
    event = json.loads(args.event.read_text(encoding="utf-8"))
    event["messageId"] = MESSAGE_ID

    sys.path.insert(0, str(HERE))  # handler.py, and a vendored mimeguard/ beside it
    try:
        import handler
    except ImportError as exc:
        sys.stderr.write(f"cannot import the function: {exc} (install mimeguard: see README.md)\n")
        return 2

    import mimeguard

    print(f"== mimeguard {mimeguard.__version__} from {Path(mimeguard.__file__).parent}")
    print("== log line")
    sys.stdout.flush()
    response = handler.lambda_handler(event, Context())
    print("== rule response")
    print(json.dumps(response))
    if services.delivered is None:
        print("== no edited message: the original is delivered unchanged (see the log line)")
        return 0
    if args.output:
        args.output.write_bytes(services.delivered)
        print(f"== edited message: {len(services.delivered):,} bytes written to {args.output}")
    else:
        print(f"== edited message ({len(services.delivered):,} bytes)")
        sys.stdout.flush()
        sys.stdout.buffer.write(services.delivered)
        sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
