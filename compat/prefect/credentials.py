"""The Prefect Secrets that Prefect 0.13's cloud handlers named, read when a client is made, as 0.13 read them.

``S3ResultHandler(aws_credentials_secret=NAME)`` authenticated with the AWS keys in the Secret ``NAME``, and
``AzureResultHandler(azure_credentials_secret=NAME)`` (default ``AZ_CREDENTIALS``) with the Azure account in it,
``GCSResultHandler(credentials_secret=NAME)`` with the Google service account key in it. The restored handlers and the Results they become under ``result_handler=`` read the same Secret through Prefect's
own ``Secret(NAME).get()``: ``prefect.context.secrets[NAME]`` locally (Prefect fills it from the environment
variable ``PREFECT__CONTEXT__SECRETS__NAME``), Prefect's backend otherwise. The Secret is read when the client is
made, never when the handler is built, so building a flow needs no credentials, and values are never shown.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from compat.errors import ConfigurationError

__all__ = [
    "aws_client_kwargs",
    "aws_credentials",
    "azure_account",
    "azure_service",
    "block_blob_sdk_installed",
    "gcp_credentials",
    "gcs_client",
    "read_secret",
]

AWS_KEYS = ("ACCESS_KEY", "SECRET_ACCESS_KEY")
GCP_KEYS = ("client_email", "private_key", "token_uri")


def read_secret(name: str, argument: str) -> Any:
    """The value of the Prefect Secret ``name`` (a JSON text decoded), which the handler's ``argument`` named."""
    from prefect.client import Secret

    try:
        value = Secret(name).get()
    except ValueError as error:  # Prefect: 'Local Secret "NAME" was not found.'
        raise ConfigurationError(
            f"{argument}={name!r} names a Prefect Secret that is not set ({error}): set it in "
            f"prefect.context.secrets or as the environment variable PREFECT__CONTEXT__SECRETS__{name}, as on "
            f"Prefect 0.13"
        ) from None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _mapping(value: Any, name: str, argument: str, keys: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"the Prefect Secret {name!r} that {argument}= names must be a JSON object with {keys}, not "
            f"{type(value).__name__} (its value is not shown)"
        )
    return value


def _secret_with(name: str, argument: str, required: Iterable[str], keys: str, fix: str) -> Mapping[str, Any]:
    """The Secret ``name`` that ``argument=`` names: a JSON object holding every ``required`` key (``keys`` says
    what it should hold, ``fix`` how to mend one that lacks some); errors name keys, never values."""
    value = _mapping(read_secret(name, argument), name, argument, keys)
    missing = [key for key in required if key not in value]
    if missing:
        raise ConfigurationError(
            f"the Prefect Secret {name!r} that {argument}= names lacks {', '.join(missing)} (it has "
            f"{', '.join(sorted(value)) or 'no keys'}): {fix}"
        )
    return value


def aws_credentials(name: str) -> dict[str, Any]:
    """The AWS keys in the Secret ``name``, in the form ``prefect.utilities.aws.get_boto_client`` takes."""
    value = _secret_with(name, "aws_credentials_secret", AWS_KEYS,
                         "ACCESS_KEY and SECRET_ACCESS_KEY (and SESSION_TOKEN for temporary keys)",
                         "store the AWS keys as ACCESS_KEY and SECRET_ACCESS_KEY")
    return {key: value[key] for key in (*AWS_KEYS, "SESSION_TOKEN") if key in value}


def aws_client_kwargs(secret: str | None, boto3_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """What ``boto3``'s ``client("s3", ...)`` gets, as 0.13 built it: the keys from the Secret ``secret`` if one is
    named (they win over keys in ``boto3_kwargs``), else those of ``boto3_kwargs``, else boto3's own lookup."""
    kwargs = dict(boto3_kwargs)
    if secret:
        credentials = aws_credentials(secret)
        kwargs["aws_access_key_id"] = credentials["ACCESS_KEY"]
        kwargs["aws_secret_access_key"] = credentials["SECRET_ACCESS_KEY"]
        if "SESSION_TOKEN" in credentials:
            kwargs["aws_session_token"] = credentials["SESSION_TOKEN"]
    return kwargs


def gcp_credentials(name: str) -> dict[str, Any]:
    """The Google service account key in the Secret ``name`` (its JSON key file's contents), in the form
    ``prefect.utilities.gcp.get_storage_client(credentials=)`` takes."""
    return dict(_secret_with(name, "credentials_secret", GCP_KEYS,
                             "the fields of a service account key file (client_email, private_key, token_uri, ...)",
                             "store the whole JSON key file of a service account"))


def gcs_client(secret: str | None) -> Any:
    """Prefect's Google Cloud Storage client (``prefect.utilities.gcp.get_storage_client``), as 0.13 made it: with the
    service account key in the Secret ``secret`` if one is named, else Prefect's own choice (the ``GCP_CREDENTIALS``
    Secret, then Google's default credentials)."""
    from prefect.utilities.gcp import get_storage_client

    if not secret:
        return get_storage_client()
    credentials = gcp_credentials(secret)
    try:
        return get_storage_client(credentials=credentials)
    except ValueError as error:  # google-auth could not load the key (its message may quote it: not shown)
        raise ConfigurationError(
            f"the Prefect Secret {secret!r} that credentials_secret= names holds a service account key that "
            f"google-auth cannot load ({type(error).__name__}; the value is not shown): store the service account's "
            "JSON key file as it was downloaded"
        ) from None


def azure_account(secret: str) -> dict[str, Any]:
    """What the Secret ``secret`` holds, as the keyword arguments Prefect 0.13 gave ``BlockBlobService``:
    ``connection_string`` (a Secret holding one, the form Prefect 1.x's ``AzureResult(connection_string_secret=)``
    reads), else ``account_name`` with ``account_key`` and ``sas_token`` (None where the Secret has none)."""
    value = read_secret(secret, "azure_credentials_secret")
    if isinstance(value, str):
        return {"connection_string": value}
    account = _mapping(value, secret, "azure_credentials_secret",
                       "ACCOUNT_NAME and ACCOUNT_KEY or SAS_TOKEN, or be a connection string")
    if "ACCOUNT_NAME" not in account or not (account.get("ACCOUNT_KEY") or account.get("SAS_TOKEN")):
        raise ConfigurationError(
            f"the Prefect Secret {secret!r} that azure_credentials_secret= names needs ACCOUNT_NAME and "
            f"ACCOUNT_KEY or SAS_TOKEN (it has {', '.join(sorted(account)) or 'no keys'}), or a connection string"
        )
    return {
        "account_name": account["ACCOUNT_NAME"],
        "account_key": account.get("ACCOUNT_KEY"),
        "sas_token": account.get("SAS_TOKEN"),
    }


def azure_service(connection_string: str | None, secret: str) -> Any:
    """A client of the blob SDK installed, from ``connection_string`` if given, else from the Secret ``secret``
    (``azure_account``; an account key wins over a SAS token, as in 0.13).

    With azure-storage-blob 12.x (what Prefect's ``azure`` extras install) a ``BlobServiceClient``; with the 2.x SDK,
    which Prefect 0.13's handler was written for and some environments kept, its ``BlockBlobService``, built as 0.13
    built it. The SDK is looked up attribute by attribute on ``azure.storage.blob`` as imported now, as 0.13 did."""
    import azure.storage.blob

    sdk = azure.storage.blob
    kwargs = {"connection_string": connection_string} if connection_string else azure_account(secret)
    if hasattr(sdk, "BlockBlobService"):  # 2.x; 12.x has no such class
        return sdk.BlockBlobService(**kwargs)
    if "connection_string" in kwargs:
        return sdk.BlobServiceClient.from_connection_string(kwargs["connection_string"])
    return sdk.BlobServiceClient(
        account_url=f"https://{kwargs['account_name']}.blob.core.windows.net",
        credential=kwargs["account_key"] or kwargs["sas_token"],
    )


@functools.cache
def block_blob_sdk_installed() -> bool:
    """Whether the azure-storage-blob installed is the 2.x SDK (``BlockBlobService``), which Prefect 1.x's
    ``AzureResult`` cannot use; asked of its metadata once per process (a look-up costs milliseconds, once per
    handler a flow converts otherwise), so building a flow does not import the SDK."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = version("azure-storage-blob").partition(".")[0]
    except PackageNotFoundError:
        return False
    return major.isdigit() and int(major) < 12
