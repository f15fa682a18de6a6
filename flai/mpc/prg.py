"""Cryptographic randomness: fresh seeds, a seeded PRG stream and HKDF.

Secret material in :mod:`flai.mpc` comes only from :func:`secrets.token_bytes` or from the
AES-256-CTR keystream of such a seed. numpy is used for arithmetic on those bytes, never to
generate them; in particular its global and ``default_rng`` generators are not involved, so
seeding numpy has no effect on any share or mask (contrast Flower's SecAgg+, which derives
masks from a 32-bit seed through numpy's Mersenne Twister).

The PRG is AES-256 in counter mode keyed by a 32-byte seed (the construction SecAgg uses,
Bonawitz et al., CCS 2017, §4), with a 64-bit nonce derived from a domain-separation label
so that one seed can feed several independent streams.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from flai.mpc.errors import ProtocolError

__all__ = ["SEED_BYTES", "expand", "hkdf", "random_seed", "random_words"]

SEED_BYTES = 32
_PRG_DOMAIN = b"flai/mpc/prg/v1"


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
    nonce = hashlib.sha256(_PRG_DOMAIN + label).digest()[:8] + bytes(8)
    encryptor = Cipher(algorithms.AES(seed), modes.CTR(nonce)).encryptor()
    # Encrypt zeros straight into the result array (two spare words for OpenSSL's slack).
    if out is None:
        out = np.empty(n_words + 2, dtype=np.uint64)
    elif out.dtype != np.uint64 or not out.flags.c_contiguous or len(out) < n_words + 2:
        raise ProtocolError(f"PRG buffer must be contiguous uint64 of >= {n_words + 2} words")
    encryptor.update_into(_zeros(8 * n_words), out.data.cast("B")[: 8 * n_words + 16])
    return out[:n_words]


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
    """HKDF-SHA256 (RFC 5869) of ``secret`` bound to ``info`` and ``salt``."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)
