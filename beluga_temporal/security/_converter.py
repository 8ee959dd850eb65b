"""Putting an `EncryptionCodec` on a Temporal data converter, exactly once."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import temporalio.api.common.v1
import temporalio.converter
from temporalio.converter import DataConverter, PayloadCodec

from beluga_temporal.security._codec import EncryptionCodec

Payload = temporalio.api.common.v1.Payload


class CodecChain(PayloadCodec):
    """Apply several codecs: encode in order, decode in reverse order.

    Used when an application already has a codec (compression, say) and beluga's
    encryption is added after it: what is encrypted is the compressed payload.
    """

    def __init__(self, codecs: Sequence[PayloadCodec]) -> None:
        """Chain `codecs`; the first encodes first and decodes last."""
        self.codecs = list(codecs)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encode with each codec in turn."""
        result = list(payloads)
        for codec in self.codecs:
            result = await codec.encode(result)
        return result

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decode with each codec, last first."""
        result = list(payloads)
        for codec in reversed(self.codecs):
            result = await codec.decode(result)
        return result


def encryption_codec_of(converter: DataConverter) -> EncryptionCodec | None:
    """Return the `EncryptionCodec` a data converter applies, if any."""
    codec = converter.payload_codec
    if isinstance(codec, EncryptionCodec):
        return codec
    if isinstance(codec, CodecChain):
        return next((c for c in codec.codecs if isinstance(c, EncryptionCodec)), None)
    return None


def with_encryption(converter: DataConverter, codec: EncryptionCodec) -> DataConverter:
    """Return `converter` with `codec` as its (last) payload codec.

    A converter that already has an `EncryptionCodec` is returned unchanged, so
    applying the plugin twice (client, then worker or replayer) never encrypts twice.
    An application codec is kept and runs before encryption. With a current key,
    failure messages and stack traces are moved into an encoded payload too
    (Temporal's `encode_common_attributes`), so error text is encrypted as well.
    """
    if encryption_codec_of(converter) is not None:
        return converter
    existing = converter.payload_codec
    changes: dict[str, object] = {
        "payload_codec": codec if existing is None else CodecChain([existing, codec])
    }
    if codec.encrypts and converter.failure_converter_class is (
        temporalio.converter.DefaultFailureConverter
    ):
        changes["failure_converter_class"] = (
            temporalio.converter.DefaultFailureConverterWithEncodedAttributes
        )
    return dataclasses.replace(converter, **changes)  # type: ignore[arg-type]
