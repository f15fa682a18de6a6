"""CSPRNG-derived streams and Shamir sharing of short secrets."""

import hashlib
import itertools

import numpy as np
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from scipy import stats

from flai.mpc import ProtocolError, ShareMismatchError, ThresholdError, combine_secret, split_secret
from flai.mpc.prg import expand, hkdf, random_seed, random_words
from flai.mpc.shamir import PRIME, ShamirShare


def test_expand_is_deterministic_per_seed_and_label():
    seed = bytes(range(32))
    a = expand(seed, 1000, label=b"x")
    np.testing.assert_array_equal(a, expand(seed, 1000, label=b"x"))
    assert not np.array_equal(a, expand(seed, 1000, label=b"y"))
    assert not np.array_equal(a, expand(bytes(32), 1000, label=b"x"))
    np.testing.assert_array_equal(a[:10], expand(seed, 10, label=b"x"))


def test_expand_rejects_short_seed():
    with pytest.raises(ProtocolError):
        expand(b"short", 4)


def test_fresh_randomness_ignores_numpy_global_rng():
    np.random.seed(1234)
    first_seed, first_words = random_seed(), random_words(64)
    np.random.seed(1234)
    second_seed, second_words = random_seed(), random_words(64)
    assert first_seed != second_seed
    assert not np.array_equal(first_words, second_words)


def test_prg_output_is_uniform_bytes():
    data = np.frombuffer(expand(random_seed(), 20_000).tobytes(), dtype=np.uint8)
    counts = np.bincount(data, minlength=256)
    assert stats.chisquare(counts).pvalue > 1e-6


def test_expand_is_the_aes256_counter_mode_keystream():
    """The GCM-path stream equals plain AES-256-CTR from nonce ‖ 2 (SP 800-38D's first block)."""
    seed = random_seed()
    nonce = hashlib.sha256(b"flai/mpc/prg/v2" + b"lbl").digest()[:12]
    ctr = Cipher(algorithms.AES(seed), modes.CTR(nonce + (2).to_bytes(4, "big"))).encryptor()
    reference = np.frombuffer(ctr.update(bytes(8 * 5001)), dtype="<u8")
    np.testing.assert_array_equal(expand(seed, 5001, label=b"lbl"), reference)
    buffer = np.empty(5003, dtype=np.uint64)
    np.testing.assert_array_equal(expand(seed, 5001, label=b"lbl", out=buffer), reference)
    with pytest.raises(ProtocolError):
        expand(seed, 10, out=np.empty(11, dtype=np.uint64))  # no room for OpenSSL's slack


def test_expand_refuses_streams_past_the_32_bit_block_counter():
    with pytest.raises(ProtocolError):
        expand(random_seed(), 2 * (2**32 - 2) + 1)


@pytest.mark.parametrize("salt", [None, b"", b"salt", bytes(range(64))])
@pytest.mark.parametrize("length", [1, 32, 33, 64, 100])
def test_hkdf_matches_rfc5869_reference(salt, length):
    ikm = bytes(range(40))
    want = HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=b"ctx").derive(ikm)
    assert hkdf(ikm, info=b"ctx", salt=salt, length=length) == want


def test_hkdf_separates_contexts():
    assert hkdf(b"k" * 32, info=b"a") != hkdf(b"k" * 32, info=b"b")
    assert len(hkdf(b"k" * 32, info=b"a", length=64)) == 64


@pytest.mark.parametrize("n,t", [(3, 1), (5, 2), (6, 3)])
def test_any_t_plus_one_shares_reconstruct(n, t):
    secret = random_seed()
    shares = split_secret(secret, indices=range(1, n + 1), threshold=t)
    for subset in itertools.combinations(shares, t + 1):
        assert combine_secret(subset, threshold=t, length=32) == secret


def test_t_shares_fail_loudly():
    shares = split_secret(b"\x07" * 32, indices=[1, 2, 3, 4, 5], threshold=2)
    with pytest.raises(ThresholdError) as info:
        combine_secret(shares[:2], threshold=2, length=32)
    assert (info.value.available, info.value.required) == (2, 3)


def test_inconsistent_extra_share_is_detected():
    shares = split_secret(b"\x01" * 32, indices=[1, 2, 3, 4], threshold=1)
    forged = ShamirShare(index=4, value=(shares[3].value + 1) % PRIME)
    with pytest.raises(ShareMismatchError):
        combine_secret(shares[:3] + [forged], threshold=1, length=32)


def test_split_validates_inputs():
    with pytest.raises(ProtocolError):
        split_secret(b"x" * 65, indices=[1, 2, 3], threshold=1)
    with pytest.raises(ProtocolError):
        split_secret(b"x", indices=[0, 1, 2], threshold=1)
    with pytest.raises(ThresholdError):
        split_secret(b"x", indices=[1, 2], threshold=2)


def _single_shares(secret: bytes, samples: int) -> np.ndarray:
    # A single share (t = 1) as a fraction of the field; top 20 bits suffice for a KS test.
    return (
        np.array(
            [
                split_secret(secret, indices=[1, 2, 3], threshold=1)[0].value >> 501
                for _ in range(samples)
            ],
            dtype=np.float64,
        )
        / 2.0**20
    )


def test_t_shamir_shares_of_different_secrets_are_identically_distributed():
    a = _single_shares(b"\x00" * 32, 3000)
    b = _single_shares(b"\xff" * 32, 3000)
    assert stats.ks_2samp(a, b).pvalue > 1e-6
    assert stats.kstest(a, "uniform").pvalue > 1e-6
