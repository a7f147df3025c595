"""AWS Secrets Manager through boto3: one client per region, GetSecretValue, errors in one line.

boto3 is the optional extra ``helmkit[aws]``: fleets that never write ``ref+awssecrets://``
do not install it. The client uses boto3's standard credential chain and region
(``AWS_REGION`` too, as the other AWS SDKs read it), and the endpoint override that boto3
itself reads (``AWS_ENDPOINT_URL_SECRETS_MANAGER``, ``AWS_ENDPOINT_URL``).
No message raised here carries a secret value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helmkit.errors import HelmkitError

CONNECT_TIMEOUT = 10
READ_TIMEOUT = 20
_CODES = {
    "ResourceNotFoundException": ("no such secret (or no such version)",
                                  "check the secret's name, its region (?region=) and the version stage"),
    "AccessDeniedException": ("access denied",
                              "grant secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key)"),
    "UnrecognizedClientException": ("the AWS credentials are not valid", "check AWS_PROFILE or the access keys"),
    "InvalidClientTokenId": ("the AWS credentials are not valid", "check AWS_PROFILE or the access keys"),
    "ExpiredTokenException": ("the AWS session token has expired", "log in again (aws sso login, or new keys)"),
    "DecryptionFailure": ("Secrets Manager could not decrypt the secret with its KMS key",
                          "check the KMS key policy for your role"),
    "InvalidRequestException": ("Secrets Manager refused the request (the secret may be scheduled for deletion)",
                                "restore the secret or point at another one"),
}


def client_for(region: str | None, environ: Mapping[str, str]) -> Any:
    """A Secrets Manager client for ``region`` (None: boto3's default region)."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise HelmkitError("ref+awssecrets:// needs boto3, which is not installed",
                           hint="pip install 'helmkit[aws]'") from None
    config = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, retries={"max_attempts": 3})
    try:
        session = boto3.session.Session(profile_name=environ.get("AWS_PROFILE") or None)
        # AWS_REGION as the other AWS SDKs read it; boto3 itself reads AWS_DEFAULT_REGION and the profile
        region = region or environ.get("AWS_REGION") or None
        return session.client("secretsmanager", region_name=region, config=config)
    except BotoCoreError as exc:
        raise _botocore_error(exc) from None


def get_secret_string(client: Any, name: str, *, version_stage: str | None, version_id: str | None) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs = {"SecretId": name}
    if version_stage:
        kwargs["VersionStage"] = version_stage
    if version_id:
        kwargs["VersionId"] = version_id
    try:
        answer = client.get_secret_value(**kwargs)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        message, hint = _CODES.get(code, (f"Secrets Manager answered {code or 'an error'}", None))
        raise HelmkitError(message, hint=hint) from None
    except BotoCoreError as exc:
        raise _botocore_error(exc) from None
    text = answer.get("SecretString")
    if not isinstance(text, str):
        raise HelmkitError("the secret has no SecretString (only SecretBinary)",
                           hint="store the value as a string (JSON for several keys)")
    return text


def _botocore_error(exc: Exception) -> HelmkitError:
    name = type(exc).__name__
    if name in {"NoCredentialsError", "PartialCredentialsError"}:
        return HelmkitError("no AWS credentials found",
                            hint="set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on a role")
    if name == "NoRegionError":
        return HelmkitError("no AWS region",
                            hint="set AWS_REGION (or AWS_DEFAULT_REGION), or add ?region=REGION to the reference")
    if name == "ProfileNotFound":
        return HelmkitError("the AWS profile does not exist", hint="check AWS_PROFILE and ~/.aws/config")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return HelmkitError("cannot reach Secrets Manager",
                            hint="check the network, the region and AWS_ENDPOINT_URL_SECRETS_MANAGER if set")
    return HelmkitError(f"Secrets Manager call failed ({name})")
