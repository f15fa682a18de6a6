"""Sealed envelopes: X25519 + HKDF + AEAD."""

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flai.mpc import (
    EnvelopeError,
    KeyPair,
    MultiEnvelope,
    open_body,
    open_for,
    open_key_for,
    open_sealed,
    seal,
    seal_for_many,
)
from flai.mpc.envelope import ENVELOPE_OVERHEAD


def test_round_trip_and_overhead():
    alice = KeyPair.generate()
    env = seal(b"update bytes", alice.public_bytes, aad=b"round-1")
    assert len(env) == len(b"update bytes") + ENVELOPE_OVERHEAD
    assert open_sealed(env, alice, aad=b"round-1") == b"update bytes"


def test_each_seal_is_fresh():
    alice = KeyPair.generate()
    assert seal(b"same", alice.public_bytes) != seal(b"same", alice.public_bytes)


def test_wrong_key_raises():
    alice, mallory = KeyPair.generate(), KeyPair.generate()
    with pytest.raises(EnvelopeError):
        open_sealed(seal(b"secret", alice.public_bytes), mallory)


def test_wrong_associated_data_raises():
    alice = KeyPair.generate()
    with pytest.raises(EnvelopeError):
        open_sealed(seal(b"secret", alice.public_bytes, aad=b"round-1"), alice, aad=b"round-2")


@pytest.mark.parametrize("position", [1, 20, 32, 33, 40, -1])
def test_flipped_byte_raises(position):
    alice = KeyPair.generate()
    env = bytearray(seal(b"x" * 16, alice.public_bytes))
    env[position] ^= 0x01
    with pytest.raises(EnvelopeError):
        open_sealed(bytes(env), alice)


def test_bad_version_and_truncation_raise():
    alice = KeyPair.generate()
    env = seal(b"payload", alice.public_bytes)
    with pytest.raises(EnvelopeError):
        open_sealed(b"\x09" + env[1:], alice)
    with pytest.raises(EnvelopeError):
        open_sealed(env[:20], alice)


def test_low_order_public_key_is_rejected():
    with pytest.raises(EnvelopeError):
        seal(b"x", bytes(32))


def test_key_pair_survives_private_bytes_round_trip():
    kp = KeyPair.generate()
    again = KeyPair.from_private_bytes(kp.private_bytes())
    assert again.public_bytes == kp.public_bytes
    assert open_sealed(seal(b"hi", kp.public_bytes), again) == b"hi"


def test_multi_recipient_readers_extras_and_tampering():
    keys = {i: KeyPair.generate() for i in range(3)}
    env = seal_for_many(
        b"big payload",
        {i: k.public_bytes for i, k in keys.items()},
        aad=b"ctx",
        readers=[0, 1],
        extras={0: b"seed-0", 2: b"seed-2"},
    )
    assert open_for(env, 0, keys[0], aad=b"ctx") == (b"big payload", b"seed-0")
    assert open_for(env, 1, keys[1], aad=b"ctx") == (b"big payload", b"")
    assert open_for(env, 2, keys[2], aad=b"ctx", reader=False) == (None, b"seed-2")
    with pytest.raises(EnvelopeError):
        open_for(env, 1, keys[0], aad=b"ctx")
    with pytest.raises(EnvelopeError):
        open_for(env, 0, keys[0], aad=b"other")
    with pytest.raises(EnvelopeError):
        open_for(env, 7, keys[0], aad=b"ctx")
    tampered = type(env)(body=env.body[:-1] + bytes([env.body[-1] ^ 1]), keys=env.keys)
    with pytest.raises(EnvelopeError):
        open_for(tampered, 0, keys[0], aad=b"ctx")


def test_multi_recipient_rejects_unknown_extras():
    kp = KeyPair.generate()
    with pytest.raises(EnvelopeError):
        seal_for_many(b"p", {0: kp.public_bytes}, extras={5: b"x"})


def test_a_reader_cannot_forge_a_body_that_another_reader_accepts():
    keys = {i: KeyPair.generate() for i in range(3)}
    env = seal_for_many(
        b"correction share", {i: k.public_bytes for i, k in keys.items()}, aad=b"ctx"
    )
    # Reader 0 knows the data key and re-encrypts a payload of its choice under it.
    data_key, _ = open_key_for(env, 0, keys[0], aad=b"ctx")
    assert data_key is not None
    version = env.body[:1]
    forged = MultiEnvelope(
        body=version + AESGCM(data_key).encrypt(bytes(12), b"forged share", version + b"ctx"),
        keys=env.keys,
    )
    # The GCM tag alone accepts the forgery (every reader holds the data key) ...
    assert open_body(forged, data_key, aad=b"ctx") == b"forged share"
    # ... but reader 1's own one-time MAC key, sealed to it alone, refuses it.
    with pytest.raises(EnvelopeError, match="tampered envelope body"):
        open_for(forged, 1, keys[1], aad=b"ctx")
    with pytest.raises(EnvelopeError):
        open_key_for(forged, 2, keys[2], aad=b"ctx")
    assert open_for(env, 1, keys[1], aad=b"ctx") == (b"correction share", b"")


def test_open_body_into_a_buffer_and_wrong_sizes():
    kp = KeyPair.generate()
    env = seal_for_many(b"0123456789", {0: kp.public_bytes}, aad=b"a")
    key, _ = open_key_for(env, 0, kp, aad=b"a")
    assert key is not None
    buffer = bytearray(10)
    assert open_body(env, key, aad=b"a", out=buffer) is buffer and buffer == b"0123456789"
    with pytest.raises(EnvelopeError):
        open_body(env, key, aad=b"a", out=bytearray(9))
    with pytest.raises(EnvelopeError):
        open_body(env, key, aad=b"b", out=buffer)
