"""The AES-256-GCM codec and its settings, without a server."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
import temporalio.converter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from beluga_temporal import BelugaPlugin, BelugaSettings, ConfigurationError, EncryptionKeyError
from beluga_temporal.security import (
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    CodecChain,
    EncryptionCodec,
    encryption_codec_of,
    key_id,
    with_encryption,
)

SECRET = "4111-1111-1111-1111"


def payloads(*values: object) -> list[Payload]:
    return pydantic_data_converter.payload_converter.to_payloads(list(values))


async def test_round_trip_hides_the_value_and_names_the_key() -> None:
    key = os.urandom(32)
    codec = EncryptionCodec(key)
    plain = payloads({"card": SECRET}, "x")
    sealed = await codec.encode(plain)
    assert len(sealed) == 2
    for payload in sealed:
        assert payload.metadata["encoding"] == ENCRYPTED_ENCODING
        assert payload.metadata[KEY_ID_METADATA] == key_id(key).encode()
        assert SECRET.encode() not in payload.data
    assert sealed[0].data != (await codec.encode(plain))[0].data  # a fresh nonce each time
    assert await codec.decode(sealed) == plain


async def test_previous_keys_decrypt_and_only_the_current_key_encrypts() -> None:
    old, new = os.urandom(32), os.urandom(32)
    written_before = await EncryptionCodec(old).encode(payloads(SECRET))
    rotated = EncryptionCodec(new, [old])
    assert await rotated.decode(written_before) == payloads(SECRET)
    written_after = await rotated.encode(payloads(SECRET))
    assert written_after[0].metadata[KEY_ID_METADATA] == key_id(new).encode()
    assert rotated.key_ids == [key_id(new), key_id(old)]


async def test_unknown_key_names_the_key_id_and_the_fix() -> None:
    writer, reader = os.urandom(32), os.urandom(32)
    sealed = await EncryptionCodec(writer).encode(payloads(SECRET))
    with pytest.raises(EncryptionKeyError) as caught:
        await EncryptionCodec(reader).decode(sealed)
    assert caught.value.key_id == key_id(writer)
    assert f"key id '{key_id(writer)}'" in str(caught.value)
    assert key_id(reader) in str(caught.value)
    assert "security.previous_keys" in str(caught.value)
    with pytest.raises(EncryptionKeyError, match="this process has no encryption key"):
        await EncryptionCodec().decode(sealed)


async def test_plain_payloads_pass_through_both_ways() -> None:
    plain = payloads({"a": 1})
    assert await EncryptionCodec(os.urandom(32)).decode(plain) == plain
    assert await EncryptionCodec().encode(plain) == plain


async def test_altered_ciphertext_or_key_id_fails_authentication() -> None:
    key, other = os.urandom(32), os.urandom(32)
    codec = EncryptionCodec(key, [other])
    (sealed,) = await codec.encode(payloads(SECRET))
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    relabelled = Payload(
        metadata={**sealed.metadata, KEY_ID_METADATA: key_id(other).encode()}, data=sealed.data
    )
    for bad in (flipped, relabelled, Payload(metadata=sealed.metadata, data=b"short")):
        with pytest.raises(EncryptionKeyError, match="failed authentication"):
            await codec.decode([bad])


async def test_an_encrypted_payload_is_never_encrypted_twice() -> None:
    codec = EncryptionCodec(os.urandom(32))
    once = await codec.encode(payloads(SECRET))
    assert await codec.encode(once) == once


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_a_key_of_the_wrong_size_is_a_configuration_error(size: int) -> None:
    with pytest.raises(ConfigurationError, match=r"security\.encryption_key: .* 32 bytes"):
        EncryptionCodec(os.urandom(size))
    with pytest.raises(ConfigurationError, match=r"security\.previous_keys: .* 32 bytes"):
        EncryptionCodec(os.urandom(32), [os.urandom(size)])


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("BELUGA_ENCRYPTION_KEY", "not base64!", "not valid base64"),
        ("BELUGA_ENCRYPTION_KEY", base64.b64encode(b"k" * 16).decode(), "got 16 bytes"),
        ("BELUGA_SECURITY__ENCRYPTION_KEY", "short", "not valid base64"),
    ],
)
def test_bad_keys_in_settings_name_the_setting_and_variable_not_the_value(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        BelugaSettings.load()
    message = str(caught.value)
    assert "security.encryption_key" in message
    assert problem in message
    assert f"${variable}" in message
    assert value not in message
    with pytest.raises(ConfigurationError, match=r"security\.encryption_key"):
        BelugaPlugin()  # every client and worker the framework makes reads the same settings


def test_previous_keys_from_env_and_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    current, old1, old2 = (base64.b64encode(os.urandom(32)).decode() for _ in range(3))
    config = tmp_path / "beluga.yaml"
    config.write_text(f"security:\n  encryption_key: {current}\n  previous_keys: [{old1}]\n")
    codec = EncryptionCodec.from_settings(BelugaSettings.load(config))
    assert codec.key_ids == [key_id(base64.b64decode(k)) for k in (current, old1)]

    monkeypatch.setenv("BELUGA_SECURITY__PREVIOUS_KEYS", f"{old1}, {old2}")
    codec = EncryptionCodec.from_settings(BelugaSettings.load(config))
    assert codec.key_ids == [key_id(base64.b64decode(k)) for k in (current, old1, old2)]

    monkeypatch.setenv("BELUGA_SECURITY__PREVIOUS_KEYS", "nope")
    with pytest.raises(ConfigurationError, match=r"previous_keys.0: .*BELUGA_SECURITY__PREVIOUS"):
        BelugaSettings.load(config)


def test_no_key_means_no_encryption(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BELUGA_ENCRYPTION_KEY", raising=False)
    codec = BelugaPlugin().payload_codec
    assert not codec.encrypts
    assert codec.key_id is None


class Tagging(temporalio.converter.PayloadCodec):
    """An application codec (compression, say) that beluga's encryption must keep."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={**p.metadata, "tagged": b"1"}, data=p.data) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(metadata={k: v for k, v in p.metadata.items() if k != "tagged"}, data=p.data)
            for p in payloads
        ]


async def test_converter_gets_encryption_once_after_an_application_codec() -> None:
    codec = EncryptionCodec(os.urandom(32))
    converter = with_encryption(pydantic_data_converter, codec)
    assert converter.payload_codec is codec
    assert converter.failure_converter_class is (
        temporalio.converter.DefaultFailureConverterWithEncodedAttributes
    )
    assert with_encryption(converter, EncryptionCodec(os.urandom(32))) is converter

    mine = temporalio.converter.DataConverter(payload_codec=Tagging())
    chained = with_encryption(mine, codec)
    assert isinstance(chained.payload_codec, CodecChain)
    assert encryption_codec_of(chained) is codec
    sealed = await chained.encode([{"card": SECRET}])
    assert sealed[0].metadata["encoding"] == ENCRYPTED_ENCODING
    assert await chained.decode(sealed) == [{"card": SECRET}]


def test_security_exports_are_public_and_importable() -> None:
    import beluga_temporal.security as security

    assert security.__all__ == sorted(security.__all__, key=lambda n: (not n.isupper(), n))
    for name in security.__all__:
        assert not name.startswith("_")
        assert getattr(security, name) is not None
