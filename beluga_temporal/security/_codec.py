"""`EncryptionCodec`: AES-256-GCM encryption of every payload, with key rotation.

An encrypted payload is a new `Payload` whose metadata says `encoding:
binary/encrypted` and names the key (`encryption-key-id`), and whose data is a 12-byte
random nonce followed by the AES-GCM ciphertext (with its 16-byte tag) of the whole
original payload, metadata included. The key id is also the GCM associated data, so a
payload whose key id was rewritten fails authentication instead of decrypting.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import temporalio.api.common.v1
import temporalio.converter
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError

from beluga_temporal.errors import ConfigurationError, EncryptionKeyError
from beluga_temporal.settings import AES_KEY_BYTES, BelugaSettings, SecuritySettings

Payload = temporalio.api.common.v1.Payload

ENCRYPTED_ENCODING = b"binary/encrypted"
"""The `encoding` metadata of an encrypted payload (wire format: never change it)."""
KEY_ID_METADATA = "encryption-key-id"
"""The metadata entry naming the key that encrypted a payload (wire format)."""
NONCE_BYTES = 12  # the GCM standard nonce; random per payload
_KEY_ID_DOMAIN = b"beluga-temporal key id\x00"  # key ids are not plain hashes of keys
_HINT = (
    "set BELUGA_ENCRYPTION_KEY (security.encryption_key) to that key, or add it to "
    "BELUGA_SECURITY__PREVIOUS_KEYS (security.previous_keys)"
)


def key_id(key: bytes) -> str:
    """Return the short, non-secret id of a key that encrypted payloads carry.

    Args:
        key: The 32 raw key bytes.

    Returns:
        16 hex characters: the start of a domain-separated SHA-256 of the key.
    """
    return hashlib.sha256(_KEY_ID_DOMAIN + key).hexdigest()[:16]


def _check_key(key: bytes, setting: str) -> bytes:
    if not isinstance(key, bytes) or len(key) != AES_KEY_BYTES:
        size = len(key) if isinstance(key, bytes) else type(key).__name__
        raise ConfigurationError(
            f"{setting}: an encryption key must be {AES_KEY_BYTES} bytes (AES-256), got {size}"
        )
    return key


class EncryptionCodec(temporalio.converter.PayloadCodec):
    """A payload codec that encrypts with AES-256-GCM and decrypts by key id.

    New payloads are encrypted with the current key; payloads are decrypted with
    whichever known key (current or previous) their metadata names, so runs started
    before a key rotation keep working. Payloads written without encryption pass
    through, so enabling encryption does not break runs already in flight. Without a
    current key the codec encrypts nothing but still names the missing key when it
    meets an encrypted payload, instead of letting it be read as garbage.

    Example:
        ```python
        codec = EncryptionCodec.from_settings(BelugaSettings.load())
        plugin = BelugaPlugin(payload_codec=codec)
        ```
    """

    def __init__(self, key: bytes | None = None, previous_keys: Sequence[bytes] = ()) -> None:
        """Create the codec.

        Args:
            key: The current key (32 bytes): encrypts new payloads. `None`: encrypt
                nothing (decode only passes plain payloads through).
            previous_keys: Older keys (32 bytes each), used only to decrypt.

        Raises:
            ConfigurationError: A key is not 32 bytes.
        """
        self._current: tuple[str, AESGCM] | None = None
        self._ciphers: dict[str, AESGCM] = {}
        if key is not None:
            cipher = AESGCM(_check_key(key, "security.encryption_key"))
            self._current = (key_id(key), cipher)
            self._ciphers[key_id(key)] = cipher
        for old in previous_keys:
            _check_key(old, "security.previous_keys")
            self._ciphers.setdefault(key_id(old), AESGCM(old))

    @classmethod
    def from_settings(cls, settings: BelugaSettings | SecuritySettings) -> EncryptionCodec:
        """Build the codec from `security.encryption_key` and `security.previous_keys`."""
        security = settings.security if isinstance(settings, BelugaSettings) else settings
        current, previous = security.key_bytes()
        return cls(current, previous)

    @property
    def key_id(self) -> str | None:
        """The id of the key that encrypts new payloads, `None` without one."""
        return self._current[0] if self._current else None

    @property
    def key_ids(self) -> list[str]:
        """The ids of every key this codec decrypts with, current first."""
        return list(self._ciphers)

    @property
    def encrypts(self) -> bool:
        """Whether new payloads are encrypted (a current key is set)."""
        return self._current is not None

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt `payloads` with the current key (see `encrypt`)."""
        return self.encrypt(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt `payloads` (see `decrypt`)."""
        return self.decrypt(payloads)

    def encrypt(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload; without a current key, return them unchanged.

        Already encrypted payloads are kept as they are (never encrypted twice).
        """
        if self._current is None:
            return list(payloads)
        kid, cipher = self._current
        return [p if _is_encrypted(p) else _sealed(p, kid, cipher) for p in payloads]

    def decrypt(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt each encrypted payload; plain payloads pass through.

        Raises:
            EncryptionKeyError: A payload names a key this codec does not have, is
                malformed, or fails authentication (altered data or wrong key).
        """
        return [self._opened(p) if _is_encrypted(p) else p for p in payloads]

    def _opened(self, payload: Payload) -> Payload:
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        kid = raw_id.decode(errors="replace") if raw_id is not None else None
        cipher = self._ciphers.get(kid) if kid is not None else None
        if kid is None or cipher is None:
            raise EncryptionKeyError(self._unknown_key(kid), key_id=kid)
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], raw_id)
            return Payload.FromString(plain)
        except (InvalidTag, ValueError, DecodeError):
            raise EncryptionKeyError(
                f"a payload encrypted with key id '{kid}' failed authentication: it was "
                "altered or truncated",
                key_id=kid,
            ) from None

    def _unknown_key(self, kid: str | None) -> str:
        if kid is None:
            return f"an encrypted payload names no key id ({KEY_ID_METADATA} metadata)"
        if not self._ciphers:
            return (
                f"a payload is encrypted with key id '{kid}', but this process has no "
                f"encryption key: {_HINT}"
            )
        known = ", ".join(f"'{k}'" for k in self._ciphers)
        return (
            f"a payload is encrypted with key id '{kid}', which is not among this "
            f"process's keys ({known}): {_HINT}"
        )


def _is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCRYPTED_ENCODING


def _sealed(payload: Payload, kid: str, cipher: AESGCM) -> Payload:
    nonce = os.urandom(NONCE_BYTES)
    raw_id = kid.encode()
    sealed = cipher.encrypt(nonce, payload.SerializeToString(), raw_id)
    return Payload(
        metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: raw_id},
        data=nonce + sealed,
    )
