"""The parties of a scenario, the keys they hold, and the federation they form.

Custodians are :class:`Hospital` (an :class:`flai.fl.Custodian` with its index), validators
are the engine's :class:`flai.fl.Validator`; :class:`Federation` holds them with the compute
nodes and the round settings. Each party that receives encrypted material holds an X25519
key pair (:class:`flai.mpc.KeyPair`): custodians and validators (the compute nodes seal
the accepted model and the validators' scores to them), compute nodes (custodians,
validators and model users send them shares) and model users (nodes seal logit shares back
to them). Private keys live in a :class:`KeyStore` directory, one
32-byte file per party with mode 0600, created from the OS CSPRNG on first use and
reloaded on a rerun — so a resumed run can still open what the interrupted one sealed.
Only public keys are ever shared (on chain they would sit in the party's registration).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flai.errors import ConfigError
from flai.fl import Custodian, Dataset, RoundConfig, Validator
from flai.mpc import AggregationConfig, KeyPair
from flai.pipeline.fields import is_identifier
from flai.storage.blockstore import atomic_write

__all__ = ["ComputeNode", "Federation", "Hospital", "KeyStore", "ModelUser"]


class KeyStore:
    """A directory of X25519 private keys, one file per party name.

    Names are safe identifiers (:func:`flai.pipeline.fields.is_identifier`) and every key
    file lives directly in the directory; anything else is refused before a byte is
    written, whatever the caller validated.

    Parameters
    ----------
    directory
        Where the keys live (created with mode 0700).
    """

    def __init__(self, *, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def path(self, name: str) -> Path:
        """The file of ``name``'s private key, directly inside the directory.

        Raises
        ------
        ConfigError
            ``name`` is no safe identifier, or its file would resolve outside the
            directory (a path or a symbolic link): no key is read or written there.
        """
        if not is_identifier(name):
            raise ConfigError(f"key name {name!r} is not a safe identifier")
        path = self.directory / f"{name}.x25519"
        if path.resolve().parent != self.directory.resolve():
            raise ConfigError(f"key file of {name!r} resolves outside {self.directory}")
        return path

    def key(self, name: str) -> KeyPair:
        """The key pair of ``name``, created on first use (file :meth:`path`)."""
        path = self.path(name)
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


@dataclass(frozen=True, eq=False)
class Federation:
    """The parties and protocol settings of a training federation: validator ``v`` is
    ``validators[v]`` and holds the key pair ``validator_keys[validator_id]``; custodian
    ``h`` holds ``custodian_keys[h.name]``."""

    hospitals: tuple[Hospital, ...]
    validators: tuple[Validator, ...]
    validator_keys: Mapping[str, KeyPair]
    compute_nodes: tuple[ComputeNode, ...]
    round_config: RoundConfig
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)
    vote_tolerance: float = 0.0
    custodian_keys: Mapping[str, KeyPair] = field(default_factory=dict)
    """Custodian name → key pair (the accepted model is sealed to it)."""

    def hospital(self, name: str) -> Hospital:
        """A hospital by name."""
        for h in self.hospitals:
            if h.name == name:
                return h
        raise KeyError(name)
