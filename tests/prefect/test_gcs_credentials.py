"""``GCSResultHandler(credentials_secret=NAME)`` authenticates with the service account key in the Prefect Secret
``NAME``, read when its client is made, as Prefect 0.13 did; so does the ``GCSResultWithSecret`` it becomes under
``result_handler=`` (Prefect 1.x's ``GCSResult`` reads only ``GCP_CREDENTIALS``).

Real components: blobs go to the GCS emulator, and each service account key names a token endpoint served here on
127.0.0.1, which google-auth calls with a JWT signed by the key, so the test sees whose key signed in. Secrets are
given as Prefect's own tests give them, through ``prefect.context.secrets``.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cloudpickle
import prefect
import pytest
from prefect import Flow, task

from compat.errors import ConfigurationError
from compat.prefect.handlers import GCSResultHandler
from compat.prefect.results import GCSResultWithSecret, to_result
from tests.prefect.conftest import run_quietly


class TokenEndpoint:
    """An OAuth token endpoint: answers every JWT grant with a token and records who signed the grant."""

    def __init__(self) -> None:
        self.signed_in: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                claims = body["assertion"][0].split(".")[1]
                endpoint.signed_in.append(json.loads(base64.urlsafe_b64decode(claims + "==="))["iss"])
                answer = json.dumps({"access_token": "token", "expires_in": 3600, "token_type": "Bearer"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def key(self, email: str) -> dict[str, str]:
        """A service account key file's contents for ``email``, with a new RSA key, signing in here."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account", "project_id": "test", "private_key_id": "1", "private_key": pem,
            "client_email": email, "client_id": "1", "token_uri": self.url,
        }  # fmt: skip


@pytest.fixture
def tokens() -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint()
    thread = threading.Thread(target=endpoint.server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()
    thread.join(timeout=10)


def stored(gcs_client: Any, bucket: str, name: str) -> Any:
    """The value 0.13's format holds in blob ``name`` (base64 of a cloudpickle)."""
    return cloudpickle.loads(base64.b64decode(gcs_client.bucket(bucket).blob(name).download_as_bytes()))


@pytest.mark.usefixtures("quiet")
def test_gcs_handler_signs_in_with_the_key_in_the_named_secret(tokens, gcs_bucket: str, gcs_client) -> None:
    handler = GCSResultHandler(gcs_bucket, credentials_secret="MY_GCP")
    secrets = {"MY_GCP": tokens.key("named@test.iam"), "GCP_CREDENTIALS": tokens.key("default@test.iam")}
    with prefect.context(secrets=secrets):
        uri = handler.write({"stored": 1})
        assert handler.read(uri) == {"stored": 1}
    assert set(tokens.signed_in) == {"named@test.iam"}
    assert stored(gcs_client, gcs_bucket, uri) == {"stored": 1}


@pytest.mark.usefixtures("quiet")
def test_gcs_handler_reads_the_secret_when_its_client_is_made_not_when_built(tokens, gcs_bucket: str) -> None:
    handler = GCSResultHandler(gcs_bucket, credentials_secret="SET_LATER")  # no Secret yet: building is fine
    with prefect.context(secrets={"SET_LATER": json.dumps(tokens.key("later@test.iam"))}):  # JSON text, as env
        handler.initialize_client()
        handler.write("x")
    assert set(tokens.signed_in) == {"later@test.iam"}


@pytest.mark.usefixtures("quiet", "checkpointing")
def test_a_task_checkpoints_through_the_secret_its_gcs_handler_names(tokens, gcs_bucket: str, gcs_client) -> None:
    @task(result_handler=GCSResultHandler(gcs_bucket, credentials_secret="MY_GCP"))
    def produce() -> int:
        return 42

    with Flow("gcs credentials") as flow:
        produced = produce()
    assert type(produce.result) is GCSResultWithSecret
    secrets = {"MY_GCP": tokens.key("named@test.iam"), "GCP_CREDENTIALS": tokens.key("default@test.iam")}
    with prefect.context(secrets=secrets):
        state = run_quietly(flow)
    assert state.is_successful(), state.result[produced].message
    assert set(tokens.signed_in) == {"named@test.iam"}
    location = state.result[produced]._result.location
    with prefect.context(secrets=secrets):
        assert produce.result.exists(location)
        assert produce.result.read(location).value == 42


@pytest.mark.usefixtures("quiet")
def test_a_gcs_handler_without_a_secret_becomes_prefects_own_gcs_result(gcs_bucket: str) -> None:
    assert type(to_result(GCSResultHandler(gcs_bucket))) is prefect.engine.results.GCSResult


@pytest.mark.usefixtures("quiet")
def test_a_gcs_result_with_a_secret_pickles_without_its_client(tokens, gcs_bucket: str) -> None:
    import pickle

    result = to_result(GCSResultHandler(gcs_bucket, credentials_secret="MY_GCP"))
    with prefect.context(secrets={"MY_GCP": tokens.key("named@test.iam")}):
        written = result.write("pickled")
        copy = pickle.loads(pickle.dumps(written))
        assert "_gcs_bucket" not in vars(copy) and copy.credentials_secret == "MY_GCP"
        assert copy.read(written.location).value == "pickled"


@pytest.mark.usefixtures("quiet")
def test_a_gcs_secret_that_is_not_set_is_a_configuration_error_naming_it(gcs_bucket: str) -> None:
    result = to_result(GCSResultHandler(gcs_bucket, credentials_secret="NOT_SET"))
    with prefect.context(secrets={}):
        with pytest.raises(ConfigurationError, match=r"credentials_secret='NOT_SET' names a Prefect Secret that is not "
                           r"set .*PREFECT__CONTEXT__SECRETS__NOT_SET"):
            result.write("never stored")


@pytest.mark.usefixtures("quiet")
def test_a_gcs_secret_without_the_key_fields_names_what_it_lacks_and_never_shows_values(tokens) -> None:
    key = tokens.key("named@test.iam")
    del key["private_key"]
    handler = GCSResultHandler("bucket", credentials_secret="PARTIAL")
    with prefect.context(secrets={"PARTIAL": key}):
        with pytest.raises(ConfigurationError, match=r"'PARTIAL' .* lacks private_key \(it has client_email") as e:
            handler.initialize_client()
    assert "named@test.iam" not in str(e.value)


@pytest.mark.usefixtures("quiet")
def test_a_gcs_secret_whose_key_google_cannot_load_is_a_configuration_error_without_its_value(tokens) -> None:
    key = {**tokens.key("named@test.iam"), "private_key": "-----BEGIN PRIVATE KEY-----\nnot-a-key\n"}
    handler = GCSResultHandler("bucket", credentials_secret="BROKEN")
    with prefect.context(secrets={"BROKEN": key}):
        with pytest.raises(ConfigurationError, match=r"'BROKEN' .* a service account key that google-auth cannot "
                           r"load") as e:
            handler.initialize_client()
    assert "not-a-key" not in str(e.value)
