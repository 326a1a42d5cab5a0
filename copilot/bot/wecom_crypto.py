"""WeCom's callback cryptography (企业微信 回调 加解密), implemented from the published scheme.

Signature: SHA-1 of the sorted concatenation of token, timestamp, nonce and the ciphertext.
Cipher: AES-256-CBC with the 32-byte key from the 43-character EncodingAESKey, IV = its first
16 bytes, PKCS#7 padding to 32 bytes. Plaintext: 16 random bytes, the message length
(4 bytes, network order), the message, the receiver id (the corp id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from copilot.bot.channel import BadSignature, MalformedMessage

BLOCK = 32


class WeComCrypto:
    def __init__(self, token: str, aes_key: str, corp_id: str) -> None:
        if len(aes_key) != 43:
            raise ValueError("COPILOT_WECOM_AES_KEY must be the 43-character EncodingAESKey")
        try:
            self._key = base64.b64decode(aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("COPILOT_WECOM_AES_KEY is not base64") from exc
        self._token = token
        self._corp_id = corp_id.encode()

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        parts = sorted([self._token, timestamp, nonce, encrypted])
        return hashlib.sha1("".join(parts).encode()).hexdigest()

    def check(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, signature.lower()):
            raise BadSignature("msg_signature does not match")

    def decrypt(self, encrypted: str) -> str:
        """The message inside ``encrypted``; ``BadSignature`` when it was not for our corp."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedMessage("Encrypt is not base64") from exc
        if not data or len(data) % 16:
            raise MalformedMessage("Encrypt is not a whole number of AES blocks")
        dec = self._cipher().decryptor()
        plain = dec.update(data) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
            raise MalformedMessage("bad padding")
        content = plain[16:-pad]
        (length,) = struct.unpack("!I", content[:4])
        message, receiver = content[4 : 4 + length], content[4 + length :]
        if len(message) != length:
            raise MalformedMessage("bad length")
        if not hmac.compare_digest(receiver, self._corp_id):
            raise BadSignature("the message was encrypted for another corp id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage("message is not UTF-8") from exc

    def encrypt(self, message: str) -> str:
        body = message.encode("utf-8")
        raw = os.urandom(16) + struct.pack("!I", len(body)) + body + self._corp_id
        pad = BLOCK - len(raw) % BLOCK
        raw += bytes([pad]) * pad
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(raw) + enc.finalize()).decode()

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
