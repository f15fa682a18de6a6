""":class:`BrownieChainPort`: :class:`flai.pipeline.ports.ChainPort` over the real contracts.

Parties are the scenario's names; :class:`~flai.chain.roles.LifecycleRoles` maps them to
accounts. Writes are
sent from the party's account (custodians commit, validators score and vote, the
coordinator — the requester — opens and finalizes, the operator fulfils, users pay) and
their gas is recorded by step in a :class:`~flai.chain.gas.GasMeter`; reads for
reconciliation come from contract state, or from events where the contracts keep only a
digest or a bitmap (update CIDs, aggregate votes, requests, slashing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from flai.chain.abi import (
    Address,
    ListingKind,
    ListingParams,
    MemberStatus,
    PriceTier,
    Request,
    RevocationReason,
    RFMParams,
    Round,
    RoundStatus,
    SubDAOState,
    Tag,
)
from flai.chain.deploy import load_subdao_suite
from flai.chain.deployments import Deployment
from flai.chain.errors import ChainError
from flai.chain.gas import GasMeter
from flai.chain.governance import action, chamber_execute
from flai.chain.plumbing import (
    Account,
    Contract,
    address,
    logs,
    mine,
    now,
    sleep,
    token_symbol,
)
from flai.chain.requests import PaidRecord, RequestBook, pipeline_tier
from flai.chain.roles import LifecycleRoles
from flai.pipeline.config import WAD, ScenarioConfig
from flai.pipeline.ports import (
    ChainPort,
    ForkRecord,
    LedgerCosts,
    PaidRequest,
    RevenueClaims,
    RoundPhase,
    Tier,
)

__all__ = ["BrownieChainPort"]


class BrownieChainPort:
    """:class:`flai.pipeline.ports.ChainPort` over the real contracts, through brownie.

    Where the port and the contracts differ, the port adapts:

    - ``close_commits`` sends nothing: the commit window is a deadline, so on a local chain
      it advances the clock past it (``COMMIT``/``SCORING`` are read from the deadline).
    - the marketplace needs a Deployed SubDAO to list, so the model is listed (through the
      technical chamber) on the first market call, after a round was accepted;
      ``set_member_ranks`` is a financial-chamber vote of the SDT holders.
    - ``request_query`` pays the FA listing's tier price: its base price ``x`` is the
      configured query price, and the tier rule (requester 3x, external 10x) applies.
    - ``revenue`` is what the FL listing's splitter received (FA fees go to the FA SubDAO).

    Parameters
    ----------
    deployment
        A deployment whose RFM is approved (:func:`flai.chain.lifecycle.setup_lifecycle`,
        :func:`flai.chain.deployments.load_deployment`).
    roles
        Names → accounts.
    gas
        Where gas per step is recorded.
    config
        The scenario: the listing's price ``x`` and timeout, the commit window, the RFM's
        tags (listing, fork).
    licence_cid
        The licence of the listing and the spec of a fork: the RFM's spec CID.
    """

    def __init__(
        self,
        *,
        deployment: Deployment,
        roles: LifecycleRoles,
        gas: GasMeter,
        config: ScenarioConfig,
        licence_cid: str,
    ) -> None:
        self.config = config
        self.licence_cid = licence_cid
        self.deployment = deployment
        self.suite = deployment.require_suite()
        self.roles = roles
        self.gas = gas
        self._rounds: Contract = self.suite.rounds
        self._market: Contract = deployment.marketplace
        self._cids: dict[tuple[int, str], str] = {}
        self._requests = RequestBook(
            market=self._market,
            logs=self.logs,
            name_of=self.roles.name_of,
            fa_listing=self.analytics_listing_id,
        )
        self._listings: dict[str, int] = {}  # SubDAO address → its listing id, once listed

    # -- plumbing --------------------------------------------------------------------------
    def _acct(self, name: str) -> Account:
        return self.roles.account(name)

    def _coordinator(self) -> Account:
        return self._acct(self.roles.requester)

    def logs(self, contract: Contract, event: str, **filters: Any) -> list[Mapping[str, Any]]:
        """``event`` logs of ``contract`` since the deployment's first block."""
        return logs(contract, event, from_block=self.deployment.start_block, **filters)

    def _round(self, round_id: int) -> Round:
        return Round.from_tuple(self._rounds.round(round_id))

    def state(self) -> SubDAOState:
        """The SubDAO's lifecycle state."""
        return SubDAOState(int(self.suite.subdao.state()))

    # -- membership ------------------------------------------------------------------------
    def validator_stakes(self) -> dict[str, int]:
        out = {}
        for name in self.roles.validators:
            record = self._rounds.validator(self._acct(name))
            if MemberStatus(int(record["status"])) is MemberStatus.WHITELISTED:
                out[name] = int(record["deposit"])
        return out

    # -- rounds ----------------------------------------------------------------------------
    def round_count(self) -> int:
        return int(self._rounds.roundCount())

    def round_phase(self, round_id: int) -> RoundPhase:
        r = self._round(round_id)
        if r.status is RoundStatus.OPEN:
            return RoundPhase.COMMIT if now() <= r.deadline else RoundPhase.SCORING
        return RoundPhase[r.status.name]  # NONE, FINALIZED, ACCEPTED, REJECTED

    def open_round(self, *, global_model_cid: str) -> int:
        deadline = now() + self.config.governance.commit_window
        tx = self.gas.send(
            "round/open",
            self._rounds.openRound,
            global_model_cid,
            deadline,
            sender=self._coordinator(),
        )
        return int(tx.events["RoundOpened"]["roundId"])

    def commit_update(self, *, round_id: int, custodian: str, update_cid: str) -> None:
        self.gas.send(
            "round/commit update CID",
            self._rounds.commitUpdate,
            round_id,
            update_cid,
            sender=self._acct(custodian),
        )
        self._cids[(round_id, custodian)] = update_cid

    def update_cid(self, round_id: int, custodian: str) -> str | None:
        key = (round_id, custodian)
        if key not in self._cids:
            account = address(self._acct(custodian))
            if int(self._rounds.updateDigest(round_id, account).hex(), 16) == 0:
                return None
            found = self.logs(
                self._rounds, "UpdateCommitted", roundId=round_id, contributor=account
            )
            if not found:
                raise ChainError(f"round {round_id}: {custodian}'s UpdateCommitted event not found")
            self._cids[key] = str(found[-1]["args"]["updateCid"])
        return self._cids[key]

    def submitters(self, round_id: int) -> tuple[str, ...]:
        return tuple(self.roles.name_of(a) for a in self._rounds.submitters(round_id))

    def close_commits(self, *, round_id: int) -> None:
        wait = self._round(round_id).deadline - now() + 1
        if wait > 0:
            sleep(wait)
        mine()

    def submit_scores(self, *, round_id: int, validator: str, scores: Sequence[int]) -> None:
        self.gas.send(
            "round/submit scores",
            self._rounds.submitScores,
            round_id,
            [int(s) for s in scores],
            sender=self._acct(validator),
        )

    def scores_of(self, round_id: int, validator: str) -> tuple[int, ...] | None:
        # scoresOf is empty for a validator who did not score; an empty round has no scores
        row = tuple(int(s) for s in self._rounds.scoresOf(round_id, self._acct(validator)))
        if row:
            return row
        found = self.logs(
            self._rounds,
            "ScoresSubmitted",
            roundId=round_id,
            validator=address(self._acct(validator)),
        )
        return () if found else None

    def finalize_round(self, *, round_id: int, aggregate_cid: str, metric: int) -> None:
        self.gas.send(
            "round/finalize (consensus + slashing)",
            self._rounds.finalizeRound,
            round_id,
            aggregate_cid,
            metric,
            sender=self._coordinator(),
        )

    def aggregate(self, round_id: int) -> tuple[str, int] | None:
        if self._round(round_id).status in (RoundStatus.NONE, RoundStatus.OPEN):
            return None
        cid, metric = self._rounds.aggregate(round_id)
        return str(cid), int(metric)

    def consensus(self, round_id: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        result = self._rounds.consensus(round_id)
        return (
            tuple(self.roles.name_of(a) for a in result["accounts"]),
            tuple(int(p) for p in result["phi"]),
        )

    def vote_aggregate(self, *, round_id: int, validator: str, approve: bool) -> None:
        self.gas.send(
            "round/vote aggregate",
            self._rounds.voteAggregate,
            round_id,
            approve,
            sender=self._acct(validator),
        )

    def aggregate_vote(self, round_id: int, validator: str) -> bool | None:
        # TrainingRounds keeps only a voted bitmap: the direction is in AggregateVoted
        found = self.logs(
            self._rounds,
            "AggregateVoted",
            roundId=round_id,
            validator=address(self._acct(validator)),
        )
        return None if not found else bool(found[-1]["args"]["approve"])

    def settle_round(self, *, round_id: int) -> RoundPhase:
        self.gas.send(
            "round/settle (accept iff aggVote >= 0)",
            self._rounds.settleRound,
            round_id,
            sender=self._coordinator(),
        )
        return self.round_phase(round_id)

    def model_version(self) -> tuple[int, str | None]:
        version = int(self.suite.subdao.modelVersion()["version"])
        if version == 0:
            return 0, None
        return version, str(self._rounds.currentModelCid())

    def points(self) -> dict[str, int]:
        sbgt = self.suite.sbgt
        return {n: int(sbgt.pointsOf(self._acct(n))) for n in self.roles.hospitals}

    def revoked_points(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for log in self.logs(self.suite.sbgt, "PointsRevoked"):
            name = self.roles.name_of(log["args"]["account"])
            out[name] = out.get(name, 0) + int(log["args"]["pointsRemoved"])
        return out

    def slashed(self) -> dict[str, int]:
        out = {n: 0 for n in self.roles.validators}
        for log in self.logs(self._rounds, "ValidatorSlashed"):
            args = log["args"]
            out[self.roles.name_of(args["validator"])] += int(args["amount"])
        return out

    def contributor_status(self, name: str) -> MemberStatus:
        """The membership status of hospital ``name``."""
        return MemberStatus(int(self._rounds.contributor(self._acct(name))["status"]))

    # -- marketplace -----------------------------------------------------------------------
    def _listing_of(self, subdao: Contract) -> int:
        """``Marketplace.listingOf(subdao)``, remembered once non-zero (a SubDAO's listing id
        never changes once it is listed)."""
        key = address(subdao)
        lid = self._listings.get(key)
        if lid is None:
            lid = int(self._market.listingOf(subdao))
            if lid:
                self._listings[key] = lid
        return lid

    def listing_id(self) -> int:
        """The FL listing of the SubDAO (0 before :meth:`ensure_listed`)."""
        return self._listing_of(self.suite.subdao)

    def ensure_listed(self) -> int:
        """List the model (technical chamber) if it is not listed yet; return the listing id."""
        lid = self.listing_id()
        if lid:
            return lid
        if self.state() is not SubDAOState.DEPLOYED:
            raise ChainError("the model can be listed only once a round is accepted (Deployed)")
        version, cid = self.model_version()
        round_id = int(self._rounds.versionRound(version))
        _, metric = self._rounds.aggregate(round_id)
        params = ListingParams(
            kind=ListingKind.INFERENCE,
            domain=Tag(self.config.rfm.domain),
            model_class=Tag(self.config.rfm.model_class),
            metric_id=Tag(self.config.rfm.metric_id),
            metric_value=int(metric),
            base_price=self.config.inference.base_price,
            timeout=self.config.inference.timeout,
            operator=Address(address(self.roles.operator)),
            licence_cid=self.licence_cid,
            model_card_cid=str(cid),  # the model card is the accepted model itself
        )
        chamber_execute(
            self.suite.technical,
            voters=[self._acct(n) for n in self.roles.hospitals],
            actions=[action(self._market, "list", self.suite.subdao, params.as_tuple())],
            description=f"List model version {version} ({cid})",
            gas=self.gas,
            step="market/list (technical chamber)",
        )
        return self.listing_id()

    def set_member_ranks(self, *, ranked: Sequence[str]) -> None:
        lid = self.ensure_listed()
        holders = [self._acct(n) for n in self._sdt_holders()]
        chamber_execute(
            self.suite.financial,
            voters=holders,
            actions=[action(self._market, "setRanks", lid, [self._acct(n) for n in ranked])],
            description=f"Member ranking by SBGT points: {', '.join(ranked)}",
            gas=self.gas,
            step="market/ranks (financial chamber)",
        )

    def _sdt_holders(self) -> list[str]:
        sdt = self.suite.sdt
        return [n for n in self.roles.parties if int(sdt.balanceOf(self._acct(n))) > 0]

    def member_ranks(self) -> tuple[str, ...]:
        lid = self.listing_id()
        if not lid:
            return ()
        generation = int(self._market.listing(lid)["rankGeneration"])
        if generation == 0:
            return ()
        ranked = []
        for name in self.roles.parties:
            acct = self._market.account(lid, self._acct(name))
            if int(acct["rankGeneration"]) == generation:
                ranked.append((int(acct["rank"]), name))
        return tuple(n for _, n in sorted(ranked))

    def price_of(self, user: str) -> tuple[int, Tier]:
        price, tier = self._market.priceOf(self.ensure_listed(), self._acct(user))
        return int(price), pipeline_tier(PriceTier(int(tier)))

    def _pay(self, *, kind: str, user: str, input_cid: str, listing: int) -> PaidRequest:
        fn = self._market.requestInference if kind == "inference" else self._market.requestQuery
        price, tier = self._market.priceOf(listing, self._acct(user))
        tx = self.gas.send(
            f"market/request {kind}", fn, listing, input_cid, int(price), sender=self._acct(user)
        )
        ev = tx.events["Requested"]
        rid = int(ev["requestId"])
        self._requests.paid(
            rid,
            PaidRecord(
                kind=kind,
                user=user,
                input_cid=input_cid,
                tier=PriceTier(int(tier)),
                record=Request.from_event(ev),
                watched=True,
            ),
        )
        return self.request(rid)

    def request_inference(self, *, user: str, input_cid: str) -> PaidRequest:
        return self._pay(
            kind="inference", user=user, input_cid=input_cid, listing=self.ensure_listed()
        )

    def analytics_listing_id(self) -> int:
        """The FA listing (0 if the lifecycle has no analytics SubDAO)."""
        fa = self.deployment.analytics
        return 0 if fa is None else self._listing_of(fa.subdao)

    def request_query(self, *, user: str, query_cid: str, price: int) -> PaidRequest:
        lid = self.analytics_listing_id()
        if not lid:
            raise ChainError("no federated-analytics listing: deploy one with setup_analytics")
        del price  # the listing's base price is the configured one; the tier rule applies
        return self._pay(kind="query", user=user, input_cid=query_cid, listing=lid)

    def find_request(self, *, user: str, input_cid: str) -> PaidRequest | None:
        rid = self._requests.find(payer=address(self._acct(user)), input_cid=input_cid)
        return None if rid is None else self.request(rid)

    def requests_of(self, *, user: str, kind: str) -> tuple[PaidRequest, ...]:
        lid = self.listing_id() if kind == "inference" else self.analytics_listing_id()
        if not lid:
            return ()
        paid = self._requests.of_listing(payer=address(self._acct(user)), listing=lid)
        return tuple(self.request(rid) for rid in paid)

    def fulfil(self, *, request_id: int, output_cid: str) -> None:
        req = self._requests.load(request_id)
        if req is None:
            raise ChainError(f"unknown request {request_id}")
        self.gas.send(
            f"market/fulfil {req.kind}",
            self._market.fulfil,
            request_id,
            req.record.as_tuple(),
            output_cid,
            sender=self.roles.operator,
        )
        req.output_cid = output_cid

    def request(self, request_id: int) -> PaidRequest:
        return self._requests.view(request_id)

    def revenue(self) -> int:
        return int(self.suite.splitter.totals()["received"])

    def payment_symbol(self) -> str:
        """The ERC-20 symbol of the RFM's payment token (what fees and revenue are paid in)."""
        rfm_id = int(self.suite.subdao.rfmId())
        params = RFMParams.from_tuple(self.deployment.platform.registry.getParams(rfm_id))
        return token_symbol(params.payment_token)

    # -- revocation, fork and retirement, revenue claims -----------------------------------
    def _sbgt_voters(self, *, excluding: Sequence[str] = ()) -> list[Account]:
        sbgt = self.suite.sbgt
        return [
            self._acct(n)
            for n in self.roles.hospitals
            if n not in excluding and int(sbgt.pointsOf(self._acct(n))) > 0
        ]

    def revoke(self, *, names: Sequence[str]) -> None:
        """The technical chamber revokes ``names`` for malice (001 §2.3): SBGT burned,
        collateral confiscated to the SubDAO treasury. Those already revoked are skipped."""
        todo = [n for n in names if self.contributor_status(n) is MemberStatus.WHITELISTED]
        if not todo:
            return
        rounds = self._rounds
        chamber_execute(
            self.suite.technical,
            voters=self._sbgt_voters(excluding=names),
            actions=[
                action(rounds, "revokeContributor", self._acct(n), RevocationReason.MALICE)
                for n in todo
            ],
            description=f"Revoke for malice (label flipping): {', '.join(todo)}",
            gas=self.gas,
            step="technical/revoke poisoners",
        )

    def revoked(self) -> dict[str, int]:
        """Revoked contributor → collateral slashed (``ContributorRevoked``)."""
        out: dict[str, int] = {}
        for log in self.logs(self._rounds, "ContributorRevoked"):
            name = self.roles.name_of(log["args"]["account"])
            out[name] = out.get(name, 0) + int(log["args"]["collateralSlashed"])
        return out

    def fork_and_retire(self, *, domain: str) -> None:
        """The technical chamber forks a ``domain`` child SubDAO (recording the parent and its
        current model version, ``lineage()``) and retires the parent: no new rounds, and the
        marketplace refuses new requests on its listing (``MarketListingRetired``). What is
        left of the two passes in one proposal; nothing is sent if both happened. The
        child's crowdfund deadline is ``rfm.crowdfund_days`` after the commit deadline of
        the round that made the current model version (chain state, so the proposal's
        calldata and id are the same on a rerun)."""
        parent = self.suite.subdao
        version = int(parent.modelVersion()["version"])
        actions = []
        if self.fork() is None:
            # the deadline is read from the chain, not the clock, so a rerun after a crash
            # builds the same calldata and finds the proposal it may have made (by its id)
            accepted = self._round(int(self._rounds.versionRound(version)))
            spec = replace(
                self.config.rfm_spec(),
                min_validators=max(1, len(self.roles.validators)),
                crowdfund_goal=self.config.rfm.fork_goal * WAD,
            )
            params = RFMParams.from_spec(
                spec,
                spec_cid=self.licence_cid,
                payment_token=address(self.deployment.platform.token),
                deadline=accepted.deadline + self.config.rfm.crowdfund_days * 24 * 3_600,
                domain=domain,
            )
            actions.append(action(parent, "fork", params.as_tuple()))
        if self.state() is not SubDAOState.RETIRED:
            actions.append(action(parent, "retire"))
        if not actions:
            return
        chamber_execute(
            self.suite.technical,
            voters=self._sbgt_voters(),
            actions=actions,
            description=f"Fork a {domain} child from model version {version}; retire",
            gas=self.gas,
            step="technical/fork+retire",
        )

    def fork(self) -> ForkRecord | None:
        """The child forked from this SubDAO (``Forked``), or None."""
        forked = self.logs(self.suite.subdao, "Forked")
        if not forked:
            return None
        child = load_subdao_suite(str(forked[-1]["args"]["child"]))
        lineage = child.subdao.lineage()
        return ForkRecord(
            child=address(child.subdao),
            parent=str(lineage["parent"]),
            parent_model_version=int(lineage["parentModelVersion"]),
            domain=self.config.rfm.fork_domain,
            parent_state=self.state().name.capitalize(),
        )

    def claim_revenue(self, *, backers: Sequence[str]) -> None:
        """Every contributor claims its SBGT side of every finished pool (eq. 10; a pool
        covers one model version and at most ``epochLength`` seconds and is over once its
        end passed, the next version was accepted or the SubDAO retired; each contributor
        claims a pool once) and every backer its SDT side (eq. 11). Claims only what is
        owed (the splitter's ``claimablePools``/``claimableSDT``), so it is idempotent."""
        splitter = self.suite.splitter
        last_pool = int(splitter.currentPoolId())
        for name in self.roles.hospitals:
            acct = self._acct(name)
            owed = splitter.claimablePools(acct, 1, last_pool)
            if int(owed[1]) > 0:
                self.gas.send(
                    "revenue/claim SBGT (eq. 10)",
                    splitter.claimSBGT,
                    [int(i) for i in owed[0]],
                    sender=acct,
                )
        for name in backers:
            acct = self._acct(name)
            if int(splitter.claimableSDT(acct)) > 0:
                self.gas.send("revenue/claim SDT (eq. 11)", splitter.claimSDT, sender=acct)

    def claimed(self) -> RevenueClaims:
        """What each party claimed in total (the splitter's events) and the splitter's books."""
        splitter = self.suite.splitter
        sbgt = {n: 0 for n in self.roles.hospitals}
        for log in self.logs(splitter, "SBGTRevenueClaimed"):
            sbgt[self.roles.name_of(log["args"]["account"])] += int(log["args"]["amount"])
        sdt = {n: 0 for n in self.config.backers}
        for log in self.logs(splitter, "SDTRevenueClaimed"):
            sdt[self.roles.name_of(log["args"]["account"])] += int(log["args"]["amount"])
        totals, accrued = splitter.totals(), splitter.accrued()
        return RevenueClaims(
            sbgt=sbgt,
            sdt=sdt,
            platform=int(accrued["platform"]) + int(totals["platformPaid"]),
            treasury=int(accrued["subDAOTreasury"]) + int(totals["treasuryPaid"]),
            received=int(totals["received"]),
        )

    def costs(self) -> LedgerCosts:
        """Transactions and gas by step, as recorded in the gas meter."""
        return LedgerCosts(writes=self.gas.counts(), gas=self.gas.totals())


def _check(port: BrownieChainPort) -> ChainPort:
    """mypy checks here that :class:`BrownieChainPort` implements :class:`ChainPort`."""
    return port
