"""The cloud handlers read the credentials Secret they name when their client is made, as Prefect 0.13 did, and so
do the Results they become under ``result_handler=``. Secrets are given as Prefect's own tests give them, through
``prefect.context.secrets``; S3 runs on moto with authentication on, Azure on Azurite."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import prefect
import pytest
from prefect import Flow, task

from compat.errors import ConfigurationError, ForbiddenArgument
from compat.prefect.handlers import AzureResultHandler, S3ResultHandler
from compat.prefect.results import AzureResultWithSecret, S3ResultWithSecret, to_result
from tests.fixtures.azure_server import connection_string
from tests.fixtures.s3_server import S3_CREDENTIALS
from tests.prefect.conftest import run_quietly

WRONG = {"aws_access_key_id": "wrong", "aws_secret_access_key": "wrong"}
ACCOUNT_KEY = base64.b64encode(b"an account key of sixty-four bytes, as Azure's are, for the test.").decode()


@pytest.fixture
def no_machine_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Machine defaults that the server refuses, so only a Secret's keys can succeed."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "machine-default")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "machine-default")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)


@pytest.fixture
def good(s3_endpoint: str, s3_bucket: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The keys of an IAM user allowed S3, as a credentials Secret holds them; the server checks credentials from now
    on (so a request signed with any other keys is refused)."""
    import boto3

    iam = boto3.session.Session().client("iam", endpoint_url=s3_endpoint, **S3_CREDENTIALS)
    user = f"results-{uuid.uuid4().hex[:12]}"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    request.getfixturevalue("s3_authentication")
    return {"ACCESS_KEY": key["AccessKeyId"], "SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def endpoint_only(s3_boto3_kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"endpoint_url": s3_boto3_kwargs["endpoint_url"], "region_name": s3_boto3_kwargs["region_name"]}


# -- S3ResultHandler(aws_credentials_secret=...) ------------------------------------------------------------------------


@pytest.mark.usefixtures("quiet", "no_machine_credentials")
def test_s3_handler_authenticates_with_the_keys_in_the_named_secret(s3_bucket: str, s3_boto3_kwargs, good) -> None:
    handler = S3ResultHandler(s3_bucket, aws_credentials_secret="MY_CREDS", boto3_kwargs=endpoint_only(s3_boto3_kwargs))
    with prefect.context(secrets={"MY_CREDS": good}):
        assert handler.read(handler.write({"stored": 1})) == {"stored": 1}


@pytest.mark.usefixtures("quiet")
def test_s3_handler_secret_wins_over_keys_in_boto3_kwargs(s3_bucket: str, s3_boto3_kwargs, good) -> None:
    handler = S3ResultHandler(s3_bucket, "MY_CREDS", {**endpoint_only(s3_boto3_kwargs), **WRONG})
    with prefect.context(secrets={"MY_CREDS": good}):
        assert handler.read(handler.write("kept")) == "kept"


@pytest.mark.usefixtures("quiet")
def test_s3_handler_whose_secret_holds_wrong_keys_is_refused(s3_bucket: str, s3_boto3_kwargs, good) -> None:
    right = {"aws_access_key_id": good["ACCESS_KEY"], "aws_secret_access_key": good["SECRET_ACCESS_KEY"]}
    handler = S3ResultHandler(s3_bucket, "MY_CREDS", {**endpoint_only(s3_boto3_kwargs), **right})
    with prefect.context(secrets={"MY_CREDS": {"ACCESS_KEY": "wrong", "SECRET_ACCESS_KEY": "wrong"}}):
        with pytest.raises(Exception, match="InvalidAccessKeyId"):
            handler.write("refused")


@pytest.mark.usefixtures("quiet")
def test_s3_handler_reads_the_secret_when_its_client_is_made_not_when_built(s3_bucket: str) -> None:
    good = {"ACCESS_KEY": "any", "SECRET_ACCESS_KEY": "any"}
    handler = S3ResultHandler(s3_bucket, aws_credentials_secret="SET_LATER")  # no secret yet: building is fine
    with prefect.context(secrets={"SET_LATER": good}):
        assert handler.client is not None


@pytest.mark.usefixtures("quiet")
def test_a_secret_that_is_not_set_is_a_configuration_error_saying_how_to_set_it() -> None:
    handler = S3ResultHandler("bucket", aws_credentials_secret="NOT_SET")
    with prefect.context(secrets={}):
        with pytest.raises(ConfigurationError, match=r"aws_credentials_secret='NOT_SET' names a Prefect Secret that "
                           r"is not set .*prefect\.context\.secrets or as the environment variable "
                           r"PREFECT__CONTEXT__SECRETS__NOT_SET"):
            handler.initialize_client()


@pytest.mark.usefixtures("quiet")
def test_a_secret_without_the_keys_names_what_it_lacks_and_never_shows_values() -> None:
    handler = S3ResultHandler("bucket", aws_credentials_secret="PARTIAL")
    with prefect.context(secrets={"PARTIAL": {"ACCESS_KEY": "AKIA-VISIBLE?"}}):
        with pytest.raises(ConfigurationError, match=r"'PARTIAL' .* lacks SECRET_ACCESS_KEY \(it has ACCESS_KEY\)") as e:
            handler.initialize_client()
    assert "AKIA-VISIBLE?" not in str(e.value)


@pytest.mark.usefixtures("quiet")
def test_s3_handler_refuses_a_service_name_in_boto3_kwargs_saying_to_remove_it() -> None:
    with pytest.raises(ConfigurationError, match=r'^Changing the boto3 "service_name" is not permitted! .*remove '
                       r"service_name from boto3_kwargs$"):
        S3ResultHandler("bucket", boto3_kwargs={"service_name": "sqs"})


@pytest.mark.usefixtures("quiet")
def test_a_service_name_in_boto3_kwargs_is_the_assertion_error_prefect_013_raised() -> None:
    with pytest.raises(AssertionError) as refused:  # 0.13: assert "service_name" not in boto3_kwargs
        S3ResultHandler("bucket", aws_credentials_secret="AWS_CREDENTIALS", boto3_kwargs={"service_name": "s3"})
    assert isinstance(refused.value, ForbiddenArgument)


@pytest.mark.usefixtures("quiet", "checkpointing", "no_machine_credentials")
def test_a_task_checkpoints_through_the_secret_its_s3_handler_names(
    s3_bucket: str, s3_boto3_kwargs, good
) -> None:
    @task(result_handler=S3ResultHandler(s3_bucket, "MY_CREDS", endpoint_only(s3_boto3_kwargs)))
    def produce() -> int:
        return 42

    with Flow("credentials") as flow:
        produced = produce()
    assert type(produce.result) is S3ResultWithSecret
    with prefect.context(secrets={"MY_CREDS": good}):
        state = run_quietly(flow)
    assert state.is_successful(), state.result[produced].message
    location = state.result[produced]._result.location
    with prefect.context(secrets={"MY_CREDS": good}):
        assert produce.result.exists(location)


@pytest.mark.usefixtures("quiet")
def test_an_s3_handler_without_a_secret_becomes_prefects_own_s3_result(s3_bucket: str) -> None:
    assert type(to_result(S3ResultHandler(s3_bucket))) is prefect.engine.results.S3Result


@pytest.mark.usefixtures("quiet")
def test_an_s3_result_with_a_secret_pickles_without_its_client(s3_bucket: str, s3_boto3_kwargs, good) -> None:
    import pickle

    result = to_result(S3ResultHandler(s3_bucket, "MY_CREDS", endpoint_only(s3_boto3_kwargs)))
    with prefect.context(secrets={"MY_CREDS": good}):
        written = result.write("pickled")
    copy = pickle.loads(pickle.dumps(written))
    assert "_client" not in vars(copy) and copy.aws_credentials_secret == "MY_CREDS"
    with prefect.context(secrets={"MY_CREDS": good}):
        assert copy.read(written.location).value == "pickled"


# -- AzureResultHandler(azure_credentials_secret=...) -------------------------------------------------------------------


@pytest.mark.usefixtures("quiet", "no_machine_credentials")
def test_azure_handler_builds_its_client_from_the_account_in_the_secret() -> None:
    handler = AzureResultHandler("results", azure_credentials_secret="MY_AZ")
    with prefect.context(secrets={"MY_AZ": {"ACCOUNT_NAME": "myaccount", "ACCOUNT_KEY": ACCOUNT_KEY}}):
        service = handler.service
    assert service.url == "https://myaccount.blob.core.windows.net/"
    assert (service.credential.account_name, service.credential.account_key) == ("myaccount", ACCOUNT_KEY)


@pytest.mark.usefixtures("quiet", "no_machine_credentials")
def test_azure_handler_uses_a_sas_token_from_the_default_secret() -> None:
    handler = AzureResultHandler("results")  # azure_credentials_secret defaults to AZ_CREDENTIALS, as in 0.13
    with prefect.context(secrets={"AZ_CREDENTIALS": {"ACCOUNT_NAME": "myaccount", "SAS_TOKEN": "sv=2024&sig=abc"}}):
        service = handler.service
    assert service.url == "https://myaccount.blob.core.windows.net/?sv=2024&sig=abc" and service.credential is None


@pytest.mark.usefixtures("quiet", "no_machine_credentials")
def test_azure_handler_writes_and_reads_through_a_connection_string_secret(azure_container: str, azure_endpoint) -> None:
    handler = AzureResultHandler(azure_container, azure_credentials_secret="MY_AZ")
    with prefect.context(secrets={"MY_AZ": connection_string(azure_endpoint)}):
        assert handler.read(handler.write([1, 2])) == [1, 2]


@pytest.mark.usefixtures("quiet", "no_machine_credentials")
def test_azure_connection_string_wins_over_the_secret(azure_container: str, azure_endpoint) -> None:
    handler = AzureResultHandler(azure_container, connection_string(azure_endpoint), "NOT_SET")
    assert handler.read(handler.write("direct")) == "direct"


@pytest.mark.usefixtures("quiet", "no_machine_credentials")
def test_azure_secret_without_a_credential_names_what_it_needs() -> None:
    handler = AzureResultHandler("results", azure_credentials_secret="MY_AZ")
    with prefect.context(secrets={"MY_AZ": {"ACCOUNT_NAME": "myaccount"}}):
        with pytest.raises(ConfigurationError, match=r"'MY_AZ' .* needs ACCOUNT_NAME and ACCOUNT_KEY or SAS_TOKEN"):
            handler.initialize_service()


@pytest.mark.usefixtures("quiet", "checkpointing", "no_machine_credentials")
def test_a_task_checkpoints_through_the_secret_its_azure_handler_names(
    azure_container: str, azure_endpoint, azure_service
) -> None:
    @task(result_handler=AzureResultHandler(azure_container, azure_credentials_secret="MY_AZ"))
    def produce() -> str:
        return "stored"

    with Flow("azure credentials") as flow:
        produced = produce()
    assert type(produce.result) is AzureResultWithSecret
    with prefect.context(secrets={"MY_AZ": connection_string(azure_endpoint)}):
        state = run_quietly(flow)
    assert state.is_successful(), state.result[produced].message
    location = state.result[produced]._result.location
    assert azure_service.get_blob_client(azure_container, location).exists()
