"""The platform page: FLAI token, SuperDAO members and governor, registry and treasury."""

from __future__ import annotations

from typing import Any

from flai.explorer.queries.base import Event
from flai.explorer.queries.subdaos import SubDAOs

__all__ = ["Platform"]


class Platform(SubDAOs):
    """Platform queries over the index (the SubDAO summaries come from :class:`SubDAOs`)."""

    def members(self) -> list[dict[str, Any]]:
        """SuperDAO members: stake and legacy credentials replayed from staking events."""
        staking = self.platform().get("SuperDAOStaking")
        stake: dict[str, int] = {}
        credentials: dict[str, int] = {}
        since: dict[str, Event] = {}
        for e in self.events(
            staking, "Staked", "Unstaked", "CredentialsGranted", "CredentialsRevoked"
        ):
            account = str(e.args["account"])
            since.setdefault(account, e)
            if e.event in ("Staked", "Unstaked"):
                stake[account] = int(e.args["newStake"])
            else:
                credentials[account] = int(e.args["newCredentials"])
        minimum = int(self.snap(staking, "minimumStake") or 0)
        rows: list[dict[str, Any]] = []
        for account in set(stake) | set(credentials):
            s, c = stake.get(account, 0), credentials.get(account, 0)
            rows.append(
                {
                    "account": account,
                    "stake": s,
                    "credentials": c,
                    "votes": s + c,
                    "member": s >= minimum and s > 0,
                    "since": since[account],
                }
            )
        rows.sort(key=lambda r: (-r["votes"], r["account"]))
        return rows

    def platform_page(self) -> dict[str, Any]:
        p = self.platform()
        token = self.token(p.get("FLAIToken"))
        timelock = p.get("TimelockController")
        members = self.members()
        total_votes = sum(m["votes"] for m in members)
        for m in members:
            m["share_bps"] = 0 if total_votes == 0 else m["votes"] * 10_000 // total_votes
        treasury = {
            "flai": self.snap(p.get("FLAIToken"), "balanceOf", timelock),
            "eth": self.snap(timelock, "ethBalance"),
            "registry_accrued": self.snap(p.get("RFMRegistry"), "treasuryAccrued"),
            "staking_fees": self.snap(p.get("SuperDAOStaking"), "pendingFees"),
            "splitter_accrued": sum(
                int(
                    (self.snap(self.suite(h).get("RevenueSplitter"), "accrued") or {}).get(
                        "platform", 0
                    )
                )
                for h in self.suites()
            ),
            "released": sum(
                int(e.args["toPlatform"])
                for h in self.suites()
                for e in self.events(self.suite(h).get("RevenueSplitter"), "TreasuriesReleased")
            ),
        }
        staking = p.get("SuperDAOStaking")
        registry = p.get("RFMRegistry")
        governor = p.get("SuperDAOGovernor")
        return {
            "platform": p,
            "token": token,
            "total_supply": self.snap(p.get("FLAIToken"), "totalSupply"),
            "members": members,
            "votes_bars": [
                (self._short(m["account"]), m["votes"] / 10 ** token["decimals"])
                for m in members[:16]
            ],
            "total_staked": self.snap(staking, "totalStaked"),
            "total_credentials": self.snap(staking, "totalCredentials"),
            "minimum_stake": self.snap(staking, "minimumStake"),
            "exit_fee_bps": self.snap(staking, "exitFeeBps"),
            "proposals": self.proposals(governor) if governor else [],
            "governor": {
                "address": governor,
                "voting_delay": self.snap(governor, "votingDelay"),
                "voting_period": self.snap(governor, "votingPeriod"),
                "quorum_numerator": self.snap(governor, "quorumNumerator"),
                "min_delay": self.snap(timelock, "getMinDelay"),
            },
            "registry": {
                "address": registry,
                "rfm_count": self.snap(registry, "rfmCount"),
                "creation_fee": self.snap(registry, "creationFee"),
                "threshold_bps": self.snap(registry, "endorsementThresholdBps"),
            },
            "treasury": treasury,
            "subdaos": [self.subdao_summary(h) for h in self.suites()],
        }
