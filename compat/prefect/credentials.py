"""The Prefect Secrets that Prefect 0.13's cloud handlers named, read when a client is made, as 0.13 read them.

``S3ResultHandler(aws_credentials_secret=NAME)`` authenticated with the AWS keys in the Secret ``NAME``, and
``AzureResultHandler(azure_credentials_secret=NAME)`` (default ``AZ_CREDENTIALS``) with the Azure account in it.
The restored handlers and the Results they become under ``result_handler=`` read the same Secret through Prefect's
own ``Secret(NAME).get()``: ``prefect.context.secrets[NAME]`` locally (Prefect fills it from the environment
variable ``PREFECT__CONTEXT__SECRETS__NAME``), Prefect's backend otherwise. The Secret is read when the client is
made, never when the handler is built, so building a flow needs no credentials, and values are never shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from compat.errors import ConfigurationError

__all__ = ["aws_client_kwargs", "aws_credentials", "azure_service", "read_secret"]

AWS_KEYS = ("ACCESS_KEY", "SECRET_ACCESS_KEY")
AZURE_KEYS = ("ACCOUNT_NAME", "ACCOUNT_KEY", "SAS_TOKEN")


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


def aws_credentials(name: str) -> dict[str, Any]:
    """The AWS keys in the Secret ``name``, in the form ``prefect.utilities.aws.get_boto_client`` takes."""
    value = _mapping(read_secret(name, "aws_credentials_secret"), name, "aws_credentials_secret",
                     "ACCESS_KEY and SECRET_ACCESS_KEY (and SESSION_TOKEN for temporary keys)")
    missing = [key for key in AWS_KEYS if key not in value]
    if missing:
        raise ConfigurationError(
            f"the Prefect Secret {name!r} that aws_credentials_secret= names lacks {', '.join(missing)} (it has "
            f"{', '.join(sorted(value)) or 'no keys'}): store the AWS keys as ACCESS_KEY and SECRET_ACCESS_KEY"
        )
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


def azure_service(connection_string: str | None, secret: str) -> Any:
    """A ``BlobServiceClient``: from ``connection_string`` if given, else from the Secret ``secret``, which holds
    ``ACCOUNT_NAME`` and ``ACCOUNT_KEY`` or ``SAS_TOKEN`` (0.13's form; the key wins if both are there) or a
    connection string (the form Prefect 1.x's ``AzureResult(connection_string_secret=)`` reads)."""
    from azure.storage.blob import BlobServiceClient

    if connection_string:
        return BlobServiceClient.from_connection_string(connection_string)
    value = read_secret(secret, "azure_credentials_secret")
    if isinstance(value, str):
        return BlobServiceClient.from_connection_string(value)
    account = _mapping(value, secret, "azure_credentials_secret",
                       "ACCOUNT_NAME and ACCOUNT_KEY or SAS_TOKEN, or be a connection string")
    credential = account.get("ACCOUNT_KEY") or account.get("SAS_TOKEN")
    if "ACCOUNT_NAME" not in account or not credential:
        raise ConfigurationError(
            f"the Prefect Secret {secret!r} that azure_credentials_secret= names needs ACCOUNT_NAME and "
            f"ACCOUNT_KEY or SAS_TOKEN (it has {', '.join(sorted(account)) or 'no keys'}), or a connection string"
        )
    return BlobServiceClient(
        account_url=f"https://{account['ACCOUNT_NAME']}.blob.core.windows.net", credential=credential
    )
