"""The parties of a scenario on chain: names → accounts, checked for funds before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flai.chain.errors import ChainError
from flai.chain.plumbing import Account, address, balance
from flai.pipeline.config import ScenarioConfig

__all__ = ["MIN_PARTY_BALANCE", "LifecycleRoles", "check_funded", "lifecycle_roles"]

#: Minimum native balance (wei) every party needs before anything is sent.
MIN_PARTY_BALANCE = 10**16


@dataclass(frozen=True, kw_only=True)
class LifecycleRoles:
    """Scenario names → accounts (brownie accounts or eth-account backed ones)."""

    deployer: Account
    requester: str
    parties: Mapping[str, Account]
    """Every named party: requester, hospitals, validators, external users."""
    hospitals: tuple[str, ...]
    validators: tuple[str, ...]
    externals: tuple[str, ...]
    operator: Account
    members: tuple[Account, ...]
    """Platform members who stake FLAI and vote in the SuperDAO."""

    def account(self, name: str) -> Account:
        """The account of party ``name``."""
        try:
            return self.parties[name]
        except KeyError:
            raise ChainError(f"unknown party {name!r}") from None

    def name_of(self, account: object) -> str:
        """The party name of an account or address."""
        wanted = address(account).lower()
        for name, acct in self.parties.items():
            if address(acct).lower() == wanted:
                return name
        raise ChainError(f"address {wanted} is no party of the scenario")


def lifecycle_roles(config: ScenarioConfig, accounts: Sequence[Account]) -> LifecycleRoles:
    """Assign accounts to the parties of a scenario.

    Layout: ``0`` deployer, ``1`` inference operator, ``2`` requester, then the hospitals,
    the validators, the external users and the platform members. Raises :class:`ChainError`
    if the network has too few accounts.
    """
    externals = config.inference.external_users
    names = [config.requester, *config.hospital_names, *config.validator_names, *externals]
    members = config.governance.members
    need = 2 + len(names) + members
    if len(accounts) < need:
        raise ChainError(f"the scenario needs {need} accounts, the network has {len(accounts)}")
    return LifecycleRoles(
        deployer=accounts[0],
        requester=config.requester,
        parties={n: accounts[2 + i] for i, n in enumerate(names)},
        hospitals=config.hospital_names,
        validators=config.validator_names,
        externals=externals,
        operator=accounts[1],
        members=tuple(accounts[2 + len(names) : 2 + len(names) + members]),
    )


def check_funded(roles: LifecycleRoles, *, minimum: int = MIN_PARTY_BALANCE) -> None:
    """Raise :class:`ChainError` naming the first party whose native balance is below
    ``minimum`` (checked before anything is sent)."""
    named: dict[str, Account] = {"deployer": roles.deployer, "operator": roles.operator}
    named |= {f"member-{i}": m for i, m in enumerate(roles.members)}
    named |= dict(roles.parties)
    for name, acct in named.items():
        wei = balance(acct)
        if wei < minimum:
            raise ChainError(
                f"account of {name} ({address(acct)}) is unfunded: balance {wei} wei < {minimum}"
            )
