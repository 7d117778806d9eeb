"""Fingerprints are stored in records: a value's fingerprint never changes, or every target written before would
turn ``inputs-changed``. These are the exact fingerprints earlier versions wrote."""

from __future__ import annotations

import datetime
import decimal
import http
import pathlib
import subprocess
import sys
import uuid
from typing import Any

import pytest

from compat.engine.fingerprints import value_fingerprint
from compat.engine.staleness import input_fingerprint

PINNED: list[tuple[Any, str]] = [
    (None, "8ce86a6ae65d3692e7305e2c58ac62eebd97d3d943e093f577da25c36988246b"),
    (True, "e632b7095b0bf32c260fa4c539e9fd7b852d0de454e9be26f24d0d6f91d069d3"),
    (False, "f67ab10ad4e4c53121b6a5fe4da9c10ddee905b978d3788d2723d7bfacbe28a9"),
    (0, "eab27a2d85ff04726a40d3ba0aa9d00e2b533d9cce426203ca7256638dfd4838"),
    (1, "420014ece56b480c8802ee84c2a77313ac9058633a0bf2ce5e0f8a9ca8a64725"),
    (-1, "c61b12a481a87e296a12540e9140c70a5d04e4dedd493ec335df9183e768f968"),
    (127, "4931af483e8507381d688282f68798c26ac05a3e059b4663628032e877b92f2e"),
    (128, "51ba3724c83ce11cd93c5681127d61bf420ede294802cc3fd03c52785b9c57ab"),
    (255, "f7a856ef1f9ed31acb0ca47a5d33dfd9bf0b58b4ce3d2ab6f2cb3df0c5f3b054"),
    (256, "cc72ca88d9f0457d5603f6cec2753a5fe3ef0a2d05a901d890c5944ce4f336a1"),
    (-128, "203edb41f1a4b3734f56cacb5f094a125c9c894298a493aaa7f36a59541797ca"),
    (-129, "03c6f71888bec355f1b7d8c8811cb592d3669cb52777b9105f2a4c27bc62b2c9"),
    (2**64, "860daf4aab528e878d17b68ebdfe3765f1c7ef1406d9460a2515c7354dc555f3"),
    (-(2**100), "ab4d987cdaa550db2dc06ec51e4bd86161fed4a2d2bc7b0f1c0da26211db7772"),
    (2**127 - 1, "fb2e1a149f201fdaa26c5fcb8e114cedd68bcf29ccef03688dbc340fb61eae4d"),  # 16 bytes: the last head kept
    (2**127, "47e128b20c1ce86223f0a7e2e396aae0a2a12ed424163ff77a0564d4f74c83fa"),  # 17 bytes: its head made
    (-(2**127), "68298970086f4cc9ea9fd2fb5951adefe3c2ee8286e41cc90178793f1589928e"),
    (-(2**127) - 1, "c5a47f46babe3d49c4097d04685e869be6880ca96507bf9f7fedb1caaa260914"),
    (2**200, "5d768d099694b8a6d357a1b9531d0041db87b799e82fb19e9dfc84eafcbaaee8"),
    (http.HTTPStatus.OK, "f871143e3387aa1718604ab938718f77d831165ce6f3c50b749233b393b6f818"),
    (1.5, "27478a77fe0e7c8591349afc5d591483855198c8f4949c59f04ba3acab3ad399"),
    (float("nan"), "1648c1484df653c39bc889233a5ca1bc7064f52a8c5c263f36bbe78950208f95"),
    (-0.0, "4df2a9a0d087bba7df5fc0a8f40c5d8c6a61973467d74e88431555aefb00d6c4"),
    (0.0, "5ba64af7ee5d4a64a1d7cc58fb68e97543955b61dac368bf17fb16a73e51fe5d"),
    (1 + 2j, "1c494b0d96f1e35dc6af36bd638b12ec4ab6d99aac261298e5614f7753c38bd7"),
    ("", "76ca65fa532efea2d73e4cb2775f96cfb650d5c8c9dbb78594a01f4cf8bb3bfe"),
    ("text", "48086f2ad99709c3fc2d8307bc152fcdf5b93dde0ffa1a579d8ae5cdfbb38737"),
    ("é", "d15247d4f166259347402a0e99eae065029f2e3cfc4f43de5bf4682335278146"),
    ("\udcff", "fd6e66531ee5ed883d46a521439ec15f679890b1dd46473fca7141cb5afb62cc"),
    (b"", "899b80c8dc11d5c2a65d67a4c3b6f3bebd2a1e990a9f79ac3d3c380533bb7c08"),
    (b"bytes", "ee2c0e536e7fb2edcd8fbbb3652142dd271eb6250aa3f38ac21235c554a9851f"),
    (bytes(300), "def371265b6d70e01423b79d38065449ab81940d7d9a036d4120cf3deb60b084"),
    (bytearray(b"ba"), "10018baac2be0abd10c84fdd0b506549177e2d37f6ac7b1d6a0636f623bf1bd3"),
    ((1, "a"), "b1f702b5f11750de54ab2a03fb9c87e6665cd1a55d1060c138cf37d1b5c0a7bc"),
    (("a", 1, None, b"c", 2.5, True), "5d1ef0fab421d2f1b1a327ee3144220ec84925446ff3a0384c9029fbcd245e77"),
    ([1, [2]], "7971642178abc84ad163cfe77e4a7f02aeab0ecb8770c7dffcf726d0646cd80a"),
    ({"a": 1, "b": [2]}, "132ef1981c8ebc8f511a2ec1c3a0417bab63545f53d6a628fda386d393f16da3"),
    ({1, 2}, "5a760d2d42b4f2c96c908cad2cad85bddd064b4a8df9f1bc8f9800bdf3ed7fed"),
    (frozenset({"x"}), "d6b814712b50d186ee0a2f9ba9bbc3e596c1391ade4be66d9d1445c968daf005"),
    (datetime.date(2026, 12, 5), "0a595c93fc8f069c51811aab119d634383b6efaeefbe24ed22b9766b7f3de7a7"),
    (datetime.datetime(2026, 12, 5, 21, 0, tzinfo=datetime.timezone.utc),
     "b99664d8d85435d873f37166312d2fde007f8ac652166f216fc876b27c85c80b"),
    (decimal.Decimal("1.10"), "d43b1d586a4002e5ac6626991797fb04361df3f4f7d3c3076e06b540f938b840"),
    (pathlib.PurePosixPath("/data/x"), "22f8a48b279e503409a7641a680101d80f95d84d460ae45a46b71cc75868100c"),
    (uuid.UUID(int=7), "681d10effdecd8a4b7b2449ae459a3eff4f7e9f12abbe9e2c5b0b8f518211762"),
]


@pytest.mark.parametrize(("value", "pinned"), PINNED, ids=lambda v: repr(v)[:30])
def test_a_values_fingerprint_is_the_one_earlier_versions_stored(value: Any, pinned: str) -> None:
    assert value_fingerprint(value) == "sha256:" + pinned


@pytest.mark.parametrize(("value", "pinned"), PINNED, ids=lambda v: repr(v)[:30])
def test_an_inputs_fingerprint_is_its_values(value: Any, pinned: str) -> None:
    assert input_fingerprint(value) == "sha256:" + pinned


def test_an_input_without_a_fingerprint_is_recorded_as_unfingerprintable_with_its_type() -> None:
    assert input_fingerprint(object()) == "unfingerprintable:object"


REGISTERED_INT = """
from compat.engine.fingerprints import register_fingerprint, value_fingerprint
from compat.engine.staleness import input_fingerprint
before = value_fingerprint(7)
register_fingerprint(int, lambda value: str(value % 2))
assert value_fingerprint(7) == value_fingerprint(9) != before, "registered for int, not used"
assert value_fingerprint([7]) == value_fingerprint([9]), "registered for int, not used inside a list"
assert input_fingerprint(7) == value_fingerprint(7)
print("ok")
"""


def test_a_fingerprint_registered_for_a_built_in_scalar_type_is_used_for_its_values() -> None:
    proc = subprocess.run([sys.executable, "-c", REGISTERED_INT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
