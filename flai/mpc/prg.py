"""Cryptographic randomness: fresh seeds, a seeded PRG stream and HKDF.

Secret material in :mod:`flai.mpc` comes only from :func:`secrets.token_bytes` or from the
AES-256-CTR keystream of such a seed. numpy is used for arithmetic on those bytes, never to
generate them; in particular its global and ``default_rng`` generators are not involved, so
seeding numpy has no effect on any share or mask (contrast Flower's SecAgg+, which derives
masks from a 32-bit seed through numpy's Mersenne Twister).

The PRG is AES-256 in counter mode keyed by a 32-byte seed (the construction SecAgg uses,
Bonawitz et al., CCS 2017, §4), with a 96-bit nonce derived from a domain-separation label
so that one seed can feed several independent streams. The keystream is the counter-mode
part of AES-GCM (NIST SP 800-38D: blocks AES_K(nonce ‖ i) for i = 2, 3, …, a 32-bit
counter), produced by encrypting zeros with a GCM context that is never finalised: OpenSSL's
stitched VAES/AVX-512 GCM code yields it about twice as fast as its plain CTR mode on the
reference machine (GHASH is computed and discarded). A 32-bit counter caps one stream at
2^32 − 2 blocks (64 GiB), which :func:`expand` enforces.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from flai.mpc.errors import ProtocolError

__all__ = ["SEED_BYTES", "expand", "hkdf", "random_seed", "random_words"]

SEED_BYTES = 32
_PRG_DOMAIN = b"flai/mpc/prg/v2"


def random_seed() -> bytes:
    """Return a fresh 32-byte seed from the operating system CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def expand(
    seed: bytes, n_words: int, *, label: bytes = b"", out: np.ndarray | None = None
) -> np.ndarray:
    """Expand ``seed`` into ``n_words`` pseudo-random 64-bit words.

    Parameters
    ----------
    seed
        A 32-byte key from :func:`random_seed` or :func:`hkdf`.
    n_words
        Number of uint64 words to produce.
    label
        Domain-separation label; different labels give independent streams.
    out
        Optional reusable buffer: a C-contiguous ``uint64`` array of at least
        ``n_words + 2`` words (OpenSSL needs a block of slack). Reusing buffers across
        rounds avoids page-faulting fresh memory for every share.

    Returns
    -------
    numpy.ndarray
        A writable ``uint64`` array of length ``n_words`` (AES-256-CTR keystream), a view
        of ``out`` when given.
    """
    if len(seed) != SEED_BYTES:
        raise ProtocolError(f"PRG seed must be {SEED_BYTES} bytes, got {len(seed)}")
    if n_words < 0:
        raise ProtocolError(f"negative PRG length {n_words}")
    if n_words > _MAX_WORDS:
        raise ProtocolError(f"PRG stream of {n_words} words exceeds the 32-bit block counter")
    encryptor = _keystream(seed, label)
    # Encrypt zeros straight into the result array (two spare words for OpenSSL's slack).
    if out is None:
        out = np.empty(n_words + 2, dtype=np.uint64)
    elif out.dtype != np.uint64 or not out.flags.c_contiguous or len(out) < n_words + 2:
        raise ProtocolError(f"PRG buffer must be contiguous uint64 of >= {n_words + 2} words")
    encryptor.update_into(_zeros(8 * n_words), out.data.cast("B")[: 8 * n_words + 16])
    return out[:n_words]


_MAX_WORDS = 2 * (2**32 - 2)


def _keystream(seed: bytes, label: bytes) -> Any:
    """An AES-256 counter-mode keystream context for ``seed`` and ``label`` (see module doc)."""
    nonce = _nonce(label)
    return Cipher(algorithms.AES(seed), modes.GCM(nonce)).encryptor()


@functools.lru_cache(maxsize=64)
def _nonce(label: bytes) -> bytes:
    return hashlib.sha256(_PRG_DOMAIN + label).digest()[:12]


_ZEROS = bytes(0)


def _zeros(n_bytes: int) -> memoryview:
    """A read-only view of ``n_bytes`` zero bytes, from one cached buffer."""
    global _ZEROS
    if len(_ZEROS) < n_bytes:
        _ZEROS = bytes(max(n_bytes, 2 * len(_ZEROS)))
    return memoryview(_ZEROS)[:n_bytes]


def random_words(n_words: int) -> np.ndarray:
    """Return ``n_words`` uniformly random uint64 words from a fresh CSPRNG seed."""
    return expand(random_seed(), n_words, label=b"fresh")


def hkdf(secret: bytes, *, info: bytes, salt: bytes | None = None, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) of ``secret`` bound to ``info`` and ``salt``.

    Extract and expand are written out with :func:`hmac.digest` (one-shot HMAC-SHA256 in
    C), which is several times faster than building a ``cryptography`` HKDF object for the
    32-byte keys used here; tests check it against ``cryptography``'s HKDF.
    """
    if not 0 < length <= 255 * 32:
        raise ProtocolError(f"HKDF-SHA256 length must be in [1, 8160], got {length}")
    prk = hmac.digest(salt if salt else bytes(32), secret, "sha256")
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        okm += block
    return okm[:length]
