"""Authenticated sessions: X25519 + HKDF once, AES-GCM with counters per message."""

import pytest

from flai.mpc import EnvelopeError, KeyPair, ProtocolError, ReplayError, SecureChannel
from flai.mpc.session import SESSION_OVERHEAD, SessionHello


@pytest.fixture
def pair():
    user, node = KeyPair.generate(), KeyPair.generate()
    mine, hello = SecureChannel.initiate(own=user, peer_public=node.public_bytes, context=b"m1")
    theirs = SecureChannel.accept(hello.to_bytes(), own=node, context=b"m1")
    return user, node, mine, theirs


def test_both_directions_round_trip_with_counters_and_overhead(pair):
    user, _, mine, theirs = pair
    query = mine.seal(b"epsilon", counter=7, aad=b"q")
    assert len(query) == len(b"epsilon") + SESSION_OVERHEAD
    assert theirs.open(query, aad=b"q") == (7, b"epsilon")
    assert theirs.peer_public == user.public_bytes  # the node learns who opened the session
    answer = theirs.seal(b"logit share", counter=7, aad=b"a")
    assert mine.open(answer, aad=b"a") == (7, b"logit share")


def test_a_replayed_message_is_refused_after_authentication_only(pair):
    _, _, mine, theirs = pair
    message = mine.seal(b"x", counter=3)
    theirs.open(message)
    with pytest.raises(ReplayError) as info:
        theirs.open(message)
    assert (info.value.what, info.value.counter) == ("session message", 3)
    # A forged message with a fresh counter does not burn that counter.
    forged = bytearray(mine.seal(b"y", counter=4))
    forged[-1] ^= 1
    with pytest.raises(EnvelopeError):
        theirs.open(bytes(forged))
    assert theirs.open(mine.seal(b"y", counter=4)) == (4, b"y")


def test_reordering_inside_the_window_is_accepted_and_too_old_is_refused():
    user, node = KeyPair.generate(), KeyPair.generate()
    mine, hello = SecureChannel.initiate(own=user, peer_public=node.public_bytes)
    theirs = SecureChannel.accept(hello, own=node, window=8)
    late = mine.seal(b"late", counter=5)
    theirs.open(mine.seal(b"new", counter=12))
    assert theirs.open(late) == (5, b"late")  # 12 - 8 < 5: still inside
    too_old = mine.seal(b"old", counter=4)
    with pytest.raises(ReplayError):
        theirs.open(too_old)


def test_same_plaintext_and_counter_give_different_ciphertexts(pair):
    _, _, mine, _ = pair
    assert mine.seal(b"same", counter=1) != mine.seal(b"same", counter=1)


@pytest.mark.parametrize("position", [0, 5, 20, 30, 40, -1])
def test_flipped_byte_or_wrong_associated_data_is_refused(pair, position):
    _, _, mine, theirs = pair
    message = bytearray(mine.seal(b"payload bytes", counter=1, aad=b"ctx"))
    message[position] ^= 0x01
    with pytest.raises(EnvelopeError):
        theirs.open(bytes(message), aad=b"ctx")
    with pytest.raises(EnvelopeError):
        theirs.open(mine.seal(b"payload", counter=2, aad=b"ctx"), aad=b"other")


def test_direction_and_session_are_bound(pair):
    user, node, mine, theirs = pair
    own_message = mine.seal(b"x", counter=1)
    with pytest.raises(EnvelopeError):
        mine.open(own_message)  # a message cannot be reflected back to its sender
    other, hello = SecureChannel.initiate(own=user, peer_public=node.public_bytes, context=b"m1")
    SecureChannel.accept(hello, own=node, context=b"m1")
    with pytest.raises(EnvelopeError, match="another session"):
        theirs.open(other.seal(b"x", counter=1))
    assert SecureChannel.session_of(own_message) == mine.session_id


def test_hello_authenticates_the_initiator_and_needs_the_right_key_and_context():
    user, node, mallory = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    _, hello = SecureChannel.initiate(own=user, peer_public=node.public_bytes, context=b"m1")
    with pytest.raises(EnvelopeError, match="key confirmation"):
        SecureChannel.accept(hello, own=mallory, context=b"m1")  # sealed to another node
    with pytest.raises(EnvelopeError, match="key confirmation"):
        SecureChannel.accept(hello, own=node, context=b"m2")  # another model
    # Claiming another identity without its private key fails the confirmation.
    forged = SessionHello(
        session_id=hello.session_id,
        ephemeral_public=hello.ephemeral_public,
        initiator_public=mallory.public_bytes,
        confirmation=hello.confirmation,
    )
    with pytest.raises(EnvelopeError, match="key confirmation"):
        SecureChannel.accept(forged, own=node, context=b"m1")
    with pytest.raises(EnvelopeError):
        SessionHello.from_bytes(hello.to_bytes()[:-1])
    with pytest.raises(EnvelopeError):
        SessionHello.from_bytes(b"\x09" + hello.to_bytes()[1:])


def test_saved_channel_resumes_with_its_replay_state(pair):
    _, _, mine, theirs = pair
    first = mine.seal(b"one", counter=1)
    theirs.open(first)
    restored = SecureChannel.from_bytes(theirs.to_bytes())
    with pytest.raises(ReplayError):
        restored.open(first)
    assert restored.open(mine.seal(b"two", counter=2)) == (2, b"two")
    resumed_user = SecureChannel.from_bytes(mine.to_bytes())
    assert theirs.open(resumed_user.seal(b"three", counter=3)) == (3, b"three")
    with pytest.raises(EnvelopeError):
        SecureChannel.from_bytes(theirs.to_bytes()[:-1])


def test_counter_range_is_checked(pair):
    _, _, mine, _ = pair
    with pytest.raises(ProtocolError):
        mine.seal(b"x", counter=-1)
    with pytest.raises(ProtocolError):
        mine.seal(b"x", counter=2**64)
