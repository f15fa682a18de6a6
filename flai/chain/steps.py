"""The on-chain steps of an RFM, each resumable from chain state.

In the order the README scripts them (and :func:`flai.chain.lifecycle.setup_lifecycle`
composes them): :func:`fund_parties` (FLAI from the deployer, topped up to what each party
needs), :func:`submit_rfm` (spec on IPFS, ``RFMParams`` to the registry),
:func:`approve_rfm` (SuperDAO vote → the factory creates the suite; crowdfund, onboarding,
launch, round parameters), :func:`setup_analytics` (the federated-analytics SubDAO and its
listing), and :func:`distribute_revenue`. Each reads where it stands first, so a rerun
sends only what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flai.chain.abi import (
    Address,
    ListingKind,
    ListingParams,
    MemberStatus,
    RFMParams,
    RFMRecord,
    RFMStatus,
    Round,
    RoundParams,
    RoundStatus,
    SubDAOState,
    Tag,
)
from flai.chain.deploy import SubDAOSuite, load_subdao_suite
from flai.chain.deployments import Deployment
from flai.chain.errors import ChainError, ConfigError
from flai.chain.gas import GasMeter
from flai.chain.governance import action, chamber_execute, superdao_approve
from flai.chain.plumbing import (
    Account,
    Contract,
    address,
    chain_time,
    logs,
    mine,
    now,
    sleep,
)
from flai.chain.port import BrownieChainPort
from flai.chain.roles import LifecycleRoles
from flai.pipeline.config import WAD, RFMSpec, ScenarioConfig
from flai.pipeline.lifecycle import run_next_round, serve_paid_requests
from flai.storage import IpfsHttpStorage, IpfsNode, Storage, open_storage

__all__ = [
    "SubmittedRFM",
    "approve_rfm",
    "distribute_revenue",
    "fund_parties",
    "require_live",
    "run_one_round",
    "serve_requests",
    "setup_analytics",
    "step_storage",
    "submit_rfm",
]

_MAX_ALLOWANCE = 2**256 - 1


def fund_parties(
    *, deployment: Deployment, roles: LifecycleRoles, config: ScenarioConfig, gas: GasMeter
) -> None:
    """Top every party's FLAI up from the deployer to what the scenario needs: fees for paid
    requests (``onboarding.funds``), the requester's two creation fees and the FA crowdfund,
    the hospitals' collateral, the validators' deposits, the backers' contributions and the
    members' stakes. Sends only shortfalls, so a rerun sends nothing."""
    token, registry = deployment.platform.token, deployment.platform.registry
    needs: dict[str, int] = {n: config.onboarding.funds * WAD for n in roles.parties}
    needs[roles.requester] += 2 * int(registry.creationFee()) + config.analytics.goal * WAD
    for name in roles.hospitals:
        needs[name] += config.onboarding.collateral * WAD
    for v in config.validators:
        needs[v.name] += v.stake * WAD
    for name, amount in config.backers.items():
        needs[name] += amount * WAD
    accounts = {address(roles.account(n)): (roles.account(n), w) for n, w in needs.items()}
    staking = deployment.platform.staking
    stake = config.governance.member_stake * WAD
    for member in roles.members:
        owed = stake - int(staking.stakeOf(member))
        accounts[address(member)] = (member, max(owed, 0))
    for acct, amount in accounts.values():
        short = amount - int(token.balanceOf(acct))
        if short > 0:
            gas.send("fund/FLAI", token.transfer, acct, short, sender=roles.deployer)


def _approve(
    gas: GasMeter, step: str, token: Contract, spender: Any, amount: int, *, owner: Account
) -> None:
    """``owner`` approves ``spender`` for ``amount`` unless its allowance already covers it
    (a rerun after a crash between an approval and the call that spends it sends nothing)."""
    if int(token.allowance(owner, spender)) < int(amount):
        gas.send(step, token.approve, spender, amount, sender=owner)


def _stake_members(
    deployment: Deployment, roles: LifecycleRoles, stake: int, gas: GasMeter
) -> None:
    token, staking = deployment.platform.token, deployment.platform.staking
    staked = False
    for member in roles.members:
        owed = stake - int(staking.stakeOf(member))
        if owed > 0:
            _approve(gas, "superdao/approve stake", token, staking, owed, owner=member)
            gas.send("superdao/stake", staking.stake, owed, sender=member)
            staked = True
    if staked:
        mine()  # votes are read at a past block


@dataclass(frozen=True)
class SubmittedRFM:
    """An RFM on the registry: its id, the CID of its spec document and its status."""

    rfm_id: int
    spec_cid: str
    status: RFMStatus


def submit_rfm(
    *,
    deployment: Deployment,
    roles: LifecycleRoles,
    spec: RFMSpec,
    storage: Storage,
    gas: GasMeter,
    step: str = "rfm",
    domain: str | None = None,
) -> SubmittedRFM:
    """Put ``spec`` on IPFS and submit it to the registry from the requester, paying the
    creation fee in FLAI (001 §8.1); the RFM is paid in FLAI. Idempotent: an RFM with the
    same spec CID and model class already submitted is returned, not resubmitted."""
    spec_cid = storage.put_json(spec.to_json() | ({"domain": domain} if domain else {}))
    registry, token = deployment.platform.registry, deployment.platform.token
    found = _find_rfm(deployment, spec_cid=spec_cid, model_class=spec.plan.model_class)
    if found is not None:
        return SubmittedRFM(
            rfm_id=found, spec_cid=spec_cid, status=_rfm_record(deployment, found).status
        )
    requester = roles.account(roles.requester)
    fee = int(registry.creationFee())
    if int(token.balanceOf(requester)) < fee:
        raise ChainError(f"requester {roles.requester} cannot pay the creation fee {fee}")
    params = RFMParams.from_spec(
        spec,
        spec_cid=spec_cid,
        payment_token=address(token),
        deadline=chain_time() + spec.plan.crowdfund_days * 24 * 3_600,
        domain=domain,
    )
    _approve(gas, f"{step}/approve fee", token, registry, fee, owner=requester)
    tx = gas.send(f"{step}/submit", registry.submit, params.as_tuple(), sender=requester)
    rid = int(tx.events["RFMSubmitted"]["rfmId"])
    return SubmittedRFM(rfm_id=rid, spec_cid=spec_cid, status=_rfm_record(deployment, rid).status)


def _find_rfm(deployment: Deployment, *, spec_cid: str, model_class: str) -> int | None:
    """The first RFM of the deployment with this spec CID and model class, or ``None``."""
    registry = deployment.platform.registry
    for log in logs(registry, "RFMSubmitted", from_block=deployment.start_block):
        rid = int(log["args"]["rfmId"])
        params = RFMParams.from_tuple(registry.getParams(rid))
        if params.spec_cid == spec_cid and params.model_class == Tag(model_class):
            return rid
    return None


def _rfm_record(deployment: Deployment, rfm_id: int) -> RFMRecord:
    return RFMRecord.from_tuple(deployment.platform.registry.getRFM(rfm_id))


def approve_rfm(
    *,
    deployment: Deployment,
    roles: LifecycleRoles,
    config: ScenarioConfig,
    rfm_id: int,
    gas: GasMeter,
) -> Deployment:
    """Bring RFM ``rfm_id`` to a training SubDAO (001 §9.1–9.3), resuming where it stands.

    The platform members stake (``governance.member_stake``) and pass the SuperDAO approval,
    whose execution creates the suite (revenue splitter included); the backers fund the
    crowdfund (their amounts in whole payment-token units) and it closes; hospitals apply
    with collateral, validators with their deposits; the requester launches with every
    hospital as founder (``onboarding.founding_points``); the technical chamber sets the
    round parameters (FLock auto-accept, tolerance, slash share, vote window, M =
    ``points_per_round``, λ = ``points_decay``); every party approves the marketplace for
    fees. Returns ``deployment`` with the suite.
    """
    record = _rfm_record(deployment, rfm_id)
    if record.status is RFMStatus.PENDING:
        _stake_members(deployment, roles, config.governance.member_stake * WAD, gas)
        superdao_approve(
            deployment.platform.governor,
            deployment.platform.registry,
            rfm_id=rfm_id,
            members=roles.members,
            gas=gas,
        )
        record = _rfm_record(deployment, rfm_id)
    if record.status is not RFMStatus.APPROVED:
        raise ChainError(f"RFM {rfm_id} is {record.status.name}: it cannot be approved")
    suite = load_subdao_suite(record.sub_dao)
    _launch(deployment, roles, config, suite, gas)
    _round_params(roles, config, suite, gas)
    market = deployment.marketplace
    token = deployment.platform.token
    for name in roles.parties:
        acct = roles.account(name)
        if int(token.allowance(acct, market)) < _MAX_ALLOWANCE // 2:
            gas.send("market/approve fees", token.approve, market, _MAX_ALLOWANCE, sender=acct)
    return replace(deployment, rfm_id=rfm_id, suite=suite)


def _state(suite: SubDAOSuite) -> SubDAOState:
    return SubDAOState(int(suite.subdao.state()))


def _launch(
    deployment: Deployment,
    roles: LifecycleRoles,
    config: ScenarioConfig,
    suite: SubDAOSuite,
    gas: GasMeter,
) -> None:
    """Crowdfund (the backers' shortfall, then close) and onboarding up to the launch, from
    whichever of the two states the SubDAO is in."""
    token, hub = deployment.platform.token, suite.subdao
    if _state(suite) is SubDAOState.CROWDFUNDING:
        for name, amount in config.backers.items():
            backer = roles.account(name)
            owed = amount * WAD - int(hub.contributionOf(backer)["paid"])
            if owed > 0:
                _approve(gas, "crowdfund/approve", token, hub, owed, owner=backer)
                gas.send("crowdfund/contribute", hub.contribute, owed, sender=backer)
        requester = roles.account(roles.requester)
        gas.send("crowdfund/close", hub.closeCrowdfund, sender=requester)
    if _state(suite) is not SubDAOState.ONBOARDING:
        return
    token, rounds = deployment.platform.token, suite.rounds
    collateral = config.onboarding.collateral * WAD
    for name in roles.hospitals:
        h = roles.account(name)
        if MemberStatus(int(rounds.contributor(h)["status"])) is MemberStatus.NONE:
            _approve(gas, "onboard/approve", token, rounds, collateral, owner=h)
            gas.send(
                "onboard/apply contributor",
                rounds.applyContributor,
                f"attestation:{name}:{config.rfm.data_schema}",
                collateral,
                sender=h,
            )
    for v in config.validators:
        acct, stake = roles.account(v.name), v.stake * WAD
        if MemberStatus(int(rounds.validator(acct)["status"])) is MemberStatus.NONE:
            _approve(gas, "onboard/approve", token, rounds, stake, owner=acct)
            gas.send("onboard/apply validator", rounds.applyValidator, stake, sender=acct)
    founders = [roles.account(n) for n in roles.hospitals]
    gas.send(
        "onboard/launch",
        rounds.launch,
        founders,
        [config.onboarding.founding_points * WAD] * len(founders),
        [roles.account(n) for n in roles.validators],
        sender=roles.account(roles.requester),
    )


def _round_params(
    roles: LifecycleRoles, config: ScenarioConfig, suite: SubDAOSuite, gas: GasMeter
) -> None:
    g = config.governance
    wanted = RoundParams(
        tolerance=g.tolerance_wad,
        slash_bps=g.slash_bps,
        vote_window=g.vote_window,
        auto_accept=True,
        points_per_round=config.points_per_round * WAD,
    )
    actions = []
    if RoundParams.from_tuple(suite.rounds.params()) != wanted:
        actions.append(action(suite.rounds, "setParams", wanted.as_tuple()))
    if config.decay_wad != int(suite.sbgt.decay()):
        actions.append(action(suite.rounds, "setDecay", config.decay_wad))
    if actions:
        chamber_execute(
            suite.technical,
            voters=[roles.account(n) for n in roles.hospitals],
            actions=actions,
            description="Round parameters (FLock auto-accept)",
            gas=gas,
            step="technical/params",
        )


def setup_analytics(
    *,
    config: ScenarioConfig,
    roles: LifecycleRoles,
    deployment: Deployment,
    gas: GasMeter,
    spec_cid: str,
    pipeline_cid: str,
) -> Deployment:
    """Bring up the federated-analytics SubDAO and its pay-per-query listing (001 §7.3).

    The marketplace holds one listing per SubDAO and lists only Deployed SubDAOs, so FA
    queries are sold by a second SubDAO: an RFM with model class ``federated-analytics``
    approved by stake-weighted endorsement (001 §8.2), funded by the requester
    (``analytics.goal``), launched with the first hospital as founder and the first
    validator, whose single bootstrap round commits the FA pipeline (``pipeline_cid``) and
    is accepted by its technical chamber in the same proposal that lists it (its splitter
    came with the suite; kind Analytics, base price ``analytics.price``). Returns
    ``deployment`` with the analytics suite.

    Resumable: each step reads where the FA SubDAO stands first (its RFM is found by spec
    CID and model class), so a rerun after a crash sends only what is missing.
    """
    platform = deployment.platform
    token, registry = platform.token, platform.registry
    requester = roles.account(roles.requester)
    founder = roles.account(roles.hospitals[0])
    validator = roles.account(roles.validators[0])
    goal = config.analytics.goal * WAD
    spec = replace(
        config.rfm_spec(),
        plan=replace(config.rfm, model_class="federated-analytics"),
        min_validators=1,
        price_per_inference=config.analytics.price,
        crowdfund_goal=goal,
    )
    params = RFMParams.from_spec(
        spec,
        spec_cid=spec_cid,
        payment_token=address(token),
        deadline=chain_time() + config.rfm.crowdfund_days * 24 * 3_600,
    )
    rfm_id = _find_rfm(deployment, spec_cid=spec_cid, model_class="federated-analytics")
    if rfm_id is None:
        fee = registry.creationFee()
        _approve(gas, "fa/rfm approve fee", token, registry, fee, owner=requester)
        submitted = gas.send("fa/rfm submit", registry.submit, params.as_tuple(), sender=requester)
        rfm_id = int(submitted.events["RFMSubmitted"]["rfmId"])
        mine()
    if _rfm_record(deployment, rfm_id).status is RFMStatus.PENDING:
        for member in roles.members[:2]:
            if int(registry.endorsementOf(rfm_id, member)) == 0:
                gas.send("fa/rfm endorse", registry.endorse, rfm_id, sender=member)
        gas.send(
            "fa/rfm approve by endorsement", registry.approveByEndorsement, rfm_id, sender=requester
        )
    record = _rfm_record(deployment, rfm_id)
    if record.status is not RFMStatus.APPROVED:
        raise ChainError(f"FA RFM {rfm_id} is {record.status.name}: it cannot be approved")
    fa = load_subdao_suite(record.sub_dao)
    if _state(fa) is SubDAOState.CROWDFUNDING:
        owed = goal - int(fa.subdao.contributionOf(requester)["paid"])
        if owed > 0:
            _approve(gas, "fa/crowdfund", token, fa.subdao, owed, owner=requester)
            gas.send("fa/crowdfund", fa.subdao.contribute, owed, sender=requester)
        gas.send("fa/crowdfund", fa.subdao.closeCrowdfund, sender=requester)
    if _state(fa) is SubDAOState.ONBOARDING:
        if MemberStatus(int(fa.rounds.contributor(founder)["status"])) is MemberStatus.NONE:
            _approve(gas, "fa/onboard", token, fa.rounds, WAD, owner=founder)
            gas.send("fa/onboard", fa.rounds.applyContributor, "attestation:fa", 0, sender=founder)
        if MemberStatus(int(fa.rounds.validator(validator)["status"])) is MemberStatus.NONE:
            _approve(gas, "fa/onboard", token, fa.rounds, WAD, owner=validator)
            gas.send("fa/onboard", fa.rounds.applyValidator, WAD, sender=validator)
        points = config.onboarding.founding_points * WAD
        gas.send("fa/onboard", fa.rounds.launch, [founder], [points], [validator], sender=requester)
    round_id = 1  # the FA SubDAO's single bootstrap round
    if int(fa.rounds.roundCount()) == 0:
        gas.send(
            "fa/bootstrap round",
            fa.rounds.openRound,
            pipeline_cid,
            chain_time() + 60,
            sender=requester,
        )
    bootstrap = Round.from_tuple(fa.rounds.round(round_id))
    if bootstrap.status is RoundStatus.OPEN:
        if not fa.rounds.submitters(round_id):
            gas.send(
                "fa/bootstrap round",
                fa.rounds.commitUpdate,
                round_id,
                pipeline_cid,
                sender=founder,
            )
        wait = bootstrap.deadline - now() + 1
        if wait > 0:
            sleep(wait)
            mine()
        if not fa.rounds.scoresOf(round_id, validator):
            gas.send(
                "fa/bootstrap round", fa.rounds.submitScores, round_id, [WAD], sender=validator
            )
        gas.send(
            "fa/bootstrap round",
            fa.rounds.finalizeRound,
            round_id,
            pipeline_cid,
            1_000_000,
            sender=requester,
        )
    listing = ListingParams(
        kind=ListingKind.ANALYTICS,
        domain=Tag(config.rfm.domain),
        model_class=Tag("federated-analytics"),
        metric_id=Tag("describe"),
        metric_value=1_000_000,
        base_price=config.analytics.price,
        timeout=config.inference.timeout,
        operator=Address(address(roles.operator)),
        licence_cid=spec_cid,
        model_card_cid=pipeline_cid,
    )
    if int(deployment.marketplace.listingOf(fa.subdao)) == 0:
        chamber_execute(
            fa.technical,
            voters=[founder],
            actions=[
                action(fa.rounds, "acceptRound", round_id),
                action(deployment.marketplace, "list", fa.subdao, listing.as_tuple()),
            ],
            description="Accept the FA pipeline, list pay-per-query",
            gas=gas,
            step="fa/accept+list (technical chamber)",
        )
    return replace(deployment, analytics_rfm_id=rfm_id, analytics=fa)


def distribute_revenue(
    *, port: BrownieChainPort, backers: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Release the accrued platform and SubDAO-treasury shares, sweep the SDT dust, then let
    every party claim (:meth:`BrownieChainPort.claim_revenue`). Each transaction is sent only
    when it moves something, so a rerun sends nothing new. Returns the claims plus what was
    released and swept."""
    splitter, caller = port.suite.splitter, port.roles.deployer
    accrued = splitter.accrued()
    if int(accrued["platform"]) + int(accrued["subDAOTreasury"]) > 0:
        port.gas.send("revenue/release treasuries", splitter.releaseTreasuries, sender=caller)
    if int(splitter.sweepDust.call({"from": caller})) > 0:
        port.gas.send("revenue/sweep dust", splitter.sweepDust, sender=caller)
    released = {"platform": 0, "treasury": 0}
    for log in port.logs(splitter, "TreasuriesReleased"):
        released["platform"] += int(log["args"]["toPlatform"])
        released["treasury"] += int(log["args"]["toSubDAO"])
    swept = sum(int(g["args"]["amount"]) for g in port.logs(splitter, "DustSwept"))
    port.claim_revenue(backers=backers)
    return port.claimed().to_json() | {"released": released, "dust": {"swept": swept}}


@contextmanager
def step_storage(workdir: str | Path) -> Iterator[Storage]:
    """The IPFS store of a step: a Kubo/local backend if ``$FLAI_IPFS_API`` is set
    (:func:`flai.storage.open_storage`), else the embedded node on ``workdir/ipfs`` — the
    repo the lifecycle used, so the CIDs on chain resolve."""
    if os.environ.get("FLAI_IPFS_API", "").strip():
        with open_storage() as storage:
            yield storage
        return
    with (
        IpfsNode(repo=Path(workdir) / "ipfs", host="127.0.0.1", port=0) as node,
        IpfsHttpStorage(address=node.address) as http,
    ):
        yield http


def require_live(port: BrownieChainPort, what: str) -> None:
    """Raise :class:`ChainError` unless the SubDAO is Training or Deployed."""
    state = port.state()
    if state not in (SubDAOState.TRAINING, SubDAOState.DEPLOYED):
        raise ChainError(
            f"SubDAO {address(port.suite.subdao)} is {state.name.capitalize()}: "
            f"{what} needs it Training or Deployed"
        )


def run_one_round(
    *, config: ScenarioConfig, port: BrownieChainPort, storage: Storage, workdir: str | Path
) -> dict[str, Any]:
    """Run (or resume) one training round through :mod:`flai.pipeline` (train → check →
    seal → IPFS → commit → score → consensus → secure aggregation → vote) from the accepted
    model on chain (zeros before the first).

    The round is the chain's last one if it is still open or finalized (a crashed run is
    resumed), else a new one. Its journal is ``workdir/round-<id>.jsonl``; the parties'
    keys are in ``workdir/keys``. Returns the round record (JSON)."""
    require_live(port, "a training round")
    return run_next_round(config=config, port=port, storage=storage, workdir=workdir).to_json()


def serve_requests(
    *,
    config: ScenarioConfig,
    port: BrownieChainPort,
    storage: Storage,
    workdir: str | Path,
    count: int,
) -> list[dict[str, Any]]:
    """Pay and serve the first ``count`` inference requests of the scenario's request plan
    through the secret-shared accepted model (resumable: requests paid but not fulfilled
    before a crash are found from ``Requested`` events and served once)."""
    if count <= 0:
        raise ConfigError(f"must be positive, got {count}", field="count")
    require_live(port, "paid inference")
    served = serve_paid_requests(
        config=config, port=port, storage=storage, workdir=workdir, count=count
    )
    return [o.to_json() for o in served]
