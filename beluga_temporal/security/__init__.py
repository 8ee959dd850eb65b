"""Payload encryption: an AES-256-GCM codec, key rotation and a remote codec server.

Set `BELUGA_ENCRYPTION_KEY` (base64 of 32 random bytes; YAML `security.encryption_key`)
and `BelugaPlugin` encrypts every payload — inputs, results, signals, queries, failure
details — before it reaches Temporal. Older keys in `security.previous_keys` keep
decrypting what they wrote. `CodecServer` (`beluga codec-server`) lets the Web UI and
the `temporal` CLI show decrypted payloads.
"""

from beluga_temporal.security._codec import (
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    key_id,
)
from beluga_temporal.security._converter import CodecChain, encryption_codec_of, with_encryption
from beluga_temporal.security._server import CodecServer, RequestError

__all__ = [
    "ENCRYPTED_ENCODING",
    "KEY_ID_METADATA",
    "CodecChain",
    "CodecServer",
    "EncryptionCodec",
    "RequestError",
    "encryption_codec_of",
    "key_id",
    "with_encryption",
]
