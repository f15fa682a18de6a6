"""The parties of a scenario and the keys they hold.

Each party that receives encrypted material holds an X25519 key pair
(:class:`flai.mpc.KeyPair`): validators (custodians seal their updates to them), compute
nodes (custodians and model users send them replicated shares) and model users (nodes
seal logit shares back to them). Private keys live in a :class:`KeyStore` directory, one
32-byte file per party with mode 0600, created from the OS CSPRNG on first use and
reloaded on a rerun — so a resumed run can still open what the interrupted one sealed.
Only public keys are ever shared (on chain they would sit in the party's registration).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flai.fl import Custodian, Dataset
from flai.mpc import KeyPair
from flai.storage.blockstore import atomic_write

__all__ = ["ComputeNode", "Hospital", "KeyStore", "ModelUser", "Validator"]


class KeyStore:
    """A directory of X25519 private keys, one file per party name.

    Parameters
    ----------
    directory
        Where the keys live (created with mode 0700).
    """

    def __init__(self, *, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def key(self, name: str) -> KeyPair:
        """The key pair of ``name``, created on first use."""
        path = self.directory / f"{name}.x25519"
        if path.is_file():
            return KeyPair.from_private_bytes(path.read_bytes())
        pair = KeyPair.generate()
        atomic_write(path, pair.private_bytes())
        os.chmod(path, 0o600)
        return pair


@dataclass(frozen=True, eq=False)
class Hospital:
    """A data custodian: its private data and behaviour (an :class:`flai.fl.Custodian`)."""

    name: str
    index: int
    custodian: Custodian

    @property
    def data(self) -> Dataset:
        """The private data (never leaves this party in plaintext)."""
        return self.custodian.data


@dataclass(frozen=True, eq=False)
class Validator:
    """A validator: a private labelled holdout and the key updates are sealed to.

    ``behaviour`` is ``"honest"`` or ``"lazy"``: a lazy validator submits equal shares
    for every submitter without opening anything — the deviating party the consensus
    rule slashes (004 §5.2, 003 §VI), used in tests and demos.
    """

    name: str
    index: int
    holdout: Dataset
    keypair: KeyPair
    behaviour: str = "honest"


@dataclass(frozen=True, eq=False)
class ComputeNode:
    """A compute node of the replicated-sharing layer (index ``j`` of ``n``)."""

    name: str
    index: int
    keypair: KeyPair


@dataclass(frozen=True, eq=False)
class ModelUser:
    """A party paying for inference; logit shares are sealed to its key."""

    name: str
    keypair: KeyPair
