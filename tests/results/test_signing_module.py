"""compat.results.signing: keys and key ids, the signed header, streams and small blobs."""

from __future__ import annotations

import io
import pickle
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from compat import ConfigurationError, SerializationError, UntrustedData
from compat.results import signing
from compat.results.signing import (
    SIGNED_MAGIC, SIGNING_KEY_FILE_VARIABLE, SIGNING_KEY_VARIABLE, BlobSignature,
    environment_keyring, key_id, keyring, parse_header, read_header, sign, sign_blob, verify, verify_blob,
)


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)
    monkeypatch.delenv(SIGNING_KEY_FILE_VARIABLE, raising=False)


def test_a_key_id_is_16_hex_digits_that_differ_per_key_and_do_not_show_the_key() -> None:
    first, second = key_id("secret one"), key_id("secret two")
    assert len(first) == 16 and int(first, 16) >= 0
    assert first != second
    assert "secret" not in first and b"secret one".hex()[:16] != first


def test_text_keys_are_stripped_by_one_rule_wherever_they_come_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, " k ")
    from_environment = environment_keyring()
    assert from_environment is not None
    assert from_environment.ids == keyring(" k ").ids == keyring("k").ids == keyring(b"k").ids


def test_a_set_but_empty_key_variable_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "")
    with pytest.raises(ConfigurationError, match="set but empty"):
        environment_keyring()


def test_a_key_of_only_spaces_given_as_an_argument_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="must not be empty or only spaces"):
        keyring("   ")


def test_a_key_file_gives_one_key_a_line_the_first_signing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys"
    path.write_text("# rotated 2026-12\nnew\n\nold\n")
    monkeypatch.setenv(SIGNING_KEY_FILE_VARIABLE, str(path))
    keys = environment_keyring()
    assert keys is not None and keys.ids == (key_id("new"), key_id("old")) and keys.signer_id == key_id("new")


def test_both_key_settings_at_once_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keys").write_text("k\n")
    monkeypatch.setenv(SIGNING_KEY_FILE_VARIABLE, str(tmp_path / "keys"))
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "k")
    with pytest.raises(ConfigurationError, match="set one"):
        environment_keyring()


def test_a_keyring_is_never_pickled_and_never_shows_a_key() -> None:
    keys = keyring("very secret")
    assert "very secret" not in repr(keys)
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(keys)


def test_a_signed_value_carries_its_key_id_location_and_time_and_verifies() -> None:
    keys = keyring("k")
    data = sign(keys, "flows/a.pkl", b"payload")
    assert data.startswith(SIGNED_MAGIC)
    header, payload = verify(keys, data, "flows/a.pkl")
    assert (header.key_id, header.location, bytes(payload)) == (key_id("k"), "flows/a.pkl", b"payload")
    assert header.written_at.tzinfo is not None


def test_a_value_signed_in_memory_is_the_bytes_a_stream_signed_at_the_same_time_makes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys, payload = keyring("k"), pickle.dumps(bytes(1024), 5)
    monkeypatch.setattr(signing.time, "time_ns", lambda: 1_765_000_000_123_456_789)
    header, mac = signing.signer(keys, "flows/a.pkl")
    mac.update(payload)
    assert sign(keys, "flows/a.pkl", payload) == header + payload + mac.digest()


def test_a_value_signed_for_another_location_is_a_mismatch_naming_both() -> None:
    keys = keyring("k")
    with pytest.raises(UntrustedData, match="for the location 'b.pkl', not 'a.pkl'") as caught:
        verify(keys, sign(keys, "b.pkl", b"x"), "a.pkl")
    assert caught.value.key_id == key_id("k")


def test_a_value_signed_with_an_unknown_key_names_that_key_id() -> None:
    with pytest.raises(UntrustedData, match=f"key id {key_id('other')}"):
        verify(keyring("k"), sign(keyring("other"), "a.pkl", b"x"), "a.pkl")


@pytest.mark.parametrize("where", ["payload", "time", "location", "tag"])
def test_any_changed_byte_of_header_or_payload_is_a_mismatch(where: str) -> None:
    keys = keyring("k")
    data = bytearray(sign(keys, "a.pkl", b"payload"))
    offset = {"payload": len(data) - signing.TAG_SIZE - 1, "time": 20, "location": signing.FIXED_SIZE, "tag": len(data) - 1}[where]
    data[offset] ^= 1
    with pytest.raises(SerializationError):
        verify(keys, bytes(data), None)


@pytest.mark.parametrize("kept", [20, signing.FIXED_SIZE + 3])
def test_a_value_cut_inside_its_header_is_refused_as_truncated(kept: int) -> None:
    data = sign(keyring("k"), "flows/a.pkl", b"payload")
    with pytest.raises(SerializationError, match="truncated"):
        verify(keyring("k"), data[:kept], None)


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_a_value_in_a_bytearray_or_memoryview_verifies_as_in_bytes(kind: type) -> None:
    keys = keyring("k")
    header, payload = verify(keys, kind(sign(keys, "a\udcff.pkl", b"payload")), "a\udcff.pkl")
    assert type(header.signed) is bytes and header.location == "a\udcff.pkl" and bytes(payload) == b"payload"


def test_the_header_is_read_from_a_stream_without_reading_the_payload() -> None:
    stream = io.BytesIO(sign(keyring("k"), "a.pkl", bytes(1000)))
    header = read_header(stream)
    assert stream.tell() == header.size and header.location == "a.pkl"


def test_a_header_claiming_a_huge_location_is_refused_before_it_is_read() -> None:
    fixed = signing._FIXED.pack(SIGNED_MAGIC, bytes(8), 0, 65535)
    with pytest.raises(SerializationError, match="claims a location of 65535 bytes"):
        parse_header(fixed + bytes(100))


def test_a_blob_signature_verifies_and_names_its_key_id() -> None:
    keys = keyring(["new", "old"])
    signature = sign_blob(b'{"task": "a"}', keyring("old"))
    assert signature.key_id == key_id("old") and len(signature.tag) == 64
    verify_blob(b'{"task": "a"}', signature, keys)


def test_a_changed_blob_is_a_mismatch() -> None:
    keys = keyring("k")
    signature = sign_blob(b'{"task": "a"}', keys)
    with pytest.raises(UntrustedData, match="does not match"):
        verify_blob(b'{"task": "b"}', signature, keys)


def test_a_blob_tag_cannot_stand_for_a_header_tag() -> None:
    keys = keyring("k")
    data = bytearray(sign(keys, "a.pkl", b"x"))
    header = parse_header(data)
    blob = sign_blob(header.signed + b"x", keys)  # the very bytes the value's tag covers
    data[-32:] = bytes.fromhex(blob.tag)
    with pytest.raises(UntrustedData):
        verify(keys, bytes(data), "a.pkl")


def test_a_forged_blob_key_id_is_a_mismatch_not_a_crash() -> None:
    with pytest.raises(UntrustedData, match="malformed key id"):
        verify_blob(b"x", BlobSignature("not hex", "00"), keyring("k"))


def test_a_value_verifies_after_a_mismatch_with_the_same_key() -> None:
    keys = keyring("k")
    good = sign(keys, "a.pkl", b"payload")
    with pytest.raises(UntrustedData, match="does not match"):
        verify(keys, good[:-1] + bytes([good[-1] ^ 1]), "a.pkl")
    assert bytes(verify(keys, good, "a.pkl")[1]) == b"payload"  # the hashing state used by the mismatch starts anew


def run_at_once(work: Callable[[int], None], arguments: Iterable[int]) -> None:
    """``work(n)`` for each ``n`` of ``arguments``, each in its own thread, all at once; every thread has ended (within
    a minute) when this returns."""
    threads = [threading.Thread(target=work, args=(n,)) for n in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)


def test_threads_signing_and_verifying_with_one_keyring_at_once_each_make_their_own_tags() -> None:
    keys = keyring("k")  # sign and verify take their hashing states from one spare list
    wrong: list[str] = []

    def work(n: int) -> None:
        payload = bytes([n]) * (n * 997)
        for _ in range(300):
            value = sign(keys, f"{n}.pkl", payload)
            try:
                if bytes(verify(keys, value, f"{n}.pkl")[1]) != payload:
                    wrong.append(f"value {n} read wrong")
            except UntrustedData as exc:
                wrong.append(f"value {n} refused: {exc}")

    run_at_once(work, range(1, 9))
    assert wrong == []


def test_threads_verifying_with_one_keyring_at_once_each_get_their_own_verdict() -> None:
    keys = keyring("k")
    values = [sign(keys, f"{n}.pkl", bytes([n]) * (n * 997)) for n in range(1, 9)]
    tampered = [value[:-40] + bytes([value[-40] ^ 1]) + value[-39:] for value in values]
    wrong: list[str] = []

    def check(n: int) -> None:
        for _ in range(300):
            try:
                if bytes(verify(keys, values[n], f"{n + 1}.pkl")[1]) != bytes([n + 1]) * ((n + 1) * 997):
                    wrong.append(f"value {n} read wrong")
            except UntrustedData as exc:
                wrong.append(f"value {n} refused: {exc}")
            try:
                verify(keys, tampered[n], f"{n + 1}.pkl")
            except UntrustedData:
                pass
            else:
                wrong.append(f"tampered value {n} verified")

    run_at_once(check, range(len(values)))
    assert wrong == []


def test_a_value_whose_tag_is_cut_short_after_a_whole_header_is_a_mismatch() -> None:
    keys = keyring("k")
    data = sign(keys, "a.pkl", b"payload")
    with pytest.raises(UntrustedData, match="does not match the bytes"):
        verify(keys, data[: signing.FIXED_SIZE + len("a.pkl") + 3], "a.pkl")


def test_a_small_value_s_payload_is_a_slice_and_a_large_one_s_a_view_of_the_value() -> None:
    keys = keyring("k")
    small, large = sign(keys, "a.pkl", b"s" * 100), sign(keys, "a.pkl", b"l" * signing._VIEW_FROM)
    assert type(verify(keys, small, "a.pkl")[1]) is bytes
    payload = verify(keys, large, "a.pkl")[1]
    assert type(payload) is memoryview and payload.obj is large and bytes(payload) == b"l" * signing._VIEW_FROM


@pytest.mark.parametrize(
    ("signed_for", "read_at"),
    [("a.pkl", "a.pkl"), ("a.pkl", "b.pkl"), ("é.pkl", "é.pkl"), ("é.pkl", "\udcc3\udca9.pkl"),
     ("a\udcff.pkl", "a\udcff.pkl"), ("a\udcff.pkl", "a\udcfe.pkl"), ("\udcc3\udca9.pkl", "é.pkl")],
)
def test_verify_takes_exactly_the_locations_its_decoded_header_names(signed_for: str, read_at: str) -> None:
    keys = keyring("k")
    data = sign(keys, signed_for, b"x")
    try:
        verify(keys, data, read_at)
    except UntrustedData:
        taken = False
    else:
        taken = True
    assert taken == (parse_header(data).location == read_at)
