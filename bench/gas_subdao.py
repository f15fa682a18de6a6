"""Gas figures of the SubDAO suite.

Run: ``python bench/gas_subdao.py`` (network from env ``FLAI_BENCH_NETWORK``, default
``development``). Prints one line per figure with its budget.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _suite import bare_factory, connect, oncology_params

ROOT = Path(__file__).resolve().parents[1]
WAD = 10**18
USDC = 10**6


def main() -> None:
    import brownie
    from brownie import chain, network

    project = connect()  # bench/gas.py runs every section in one process
    from flai.chain import load_subdao_suite

    a = network.accounts
    deployer, registry, pharma = a[0], a[1], a[2]
    contributors, validators, backers = a[3:13], a[13:16], a[16:18]
    figures: list[tuple[str, int, int]] = []

    flai = project.TestERC20.deploy("FLAI", "FLAI", 18, {"from": deployer})
    usdc = project.TestERC20.deploy("USDC", "USDC", 6, {"from": deployer})
    d = bare_factory(deployer=deployer, registry=registry, flai=flai, platform_treasury=deployer)
    params = oncology_params(payment_token=usdc, min_validators=3, crowdfund_goal=1_000 * USDC)
    tx = d.factory.createSubDAO(1, pharma, params, {"from": registry})
    figures.append(
        ("createSubDAO (whole suite, 7 clones incl. revenue splitter)", tx.gas_used, 1_500_000)
    )
    s = load_subdao_suite(tx.return_value)

    # crowdfund
    for b in backers:
        usdc.mint(b, 600 * USDC, {"from": b})
        usdc.approve(s.subdao, 600 * USDC, {"from": b})
    tx = s.subdao.contribute(600 * USDC, {"from": backers[0]})
    figures.append(
        ("crowdfund contribute (first; SDT mint settles through the splitter)", tx.gas_used, 0)
    )
    s.subdao.contribute(600 * USDC, {"from": backers[1]})
    s.subdao.closeCrowdfund({"from": backers[0]})

    # onboarding: 10 contributors, 3 validators; founders = first 5
    for c in contributors:
        s.rounds.applyContributor("bafyattestation", 0, {"from": c})
    for v in validators:
        flai.mint(v, 100 * WAD, {"from": v})
        flai.approve(s.rounds, 100 * WAD, {"from": v})
        s.rounds.applyValidator(100 * WAD, {"from": v})
    tx1 = s.rounds.launch(contributors[:1], [100 * WAD], validators, {"from": pharma})
    figures.append(("launch: 1 founder + 3 validators", tx1.gas_used, 0))

    # SBGT mint measured on a bare clone whose operator is an EOA (the call a whitelisting makes)
    cloner = project.TestCloner.deploy({"from": deployer})
    bare = project.SBGT.at(
        cloner.clone(d.sbgt_impl, {"from": deployer}).events["Cloned"]["instance"]
    )
    bare.initialize(deployer, 9 * 10**17, {"from": deployer})
    tx = bare.mint(a[19], 0, {"from": deployer})
    figures.append(("SBGT mint (whitelisting: ERC-5192 token, 0 points)", tx.gas_used, 95_000))
    # A founder's mint at launch is that mint plus a points award: the holder's first votes
    # checkpoint and here also the total's first (two fresh OZ Checkpoints traces, 4 new slots).
    tx = bare.mint(a[18], 100 * WAD, {"from": deployer})
    figures.append(("SBGT mint + founder points award (first ever)", tx.gas_used, 0))
    tx = bare.mint(a[17], 100 * WAD, {"from": deployer})
    figures.append(("SBGT mint + founder points award (later block)", tx.gas_used, 0))

    # technical chamber: whitelist the other 9 contributors (castVote measured here)
    t = s.technical
    calldata = [s.rounds.whitelistContributors.encode_input(contributors[1:])]
    tx = t.propose([s.rounds], [0], calldata, "whitelist 9", {"from": contributors[0]})
    pid = tx.events["ProposalCreated"]["proposalId"]
    figures.append(("technical propose", tx.gas_used, 0))
    chain.mine(2)
    tx = t.castVote(pid, 1, {"from": contributors[0]})
    figures.append(("technical chamber castVote (SBGT points)", tx.gas_used, 86_000))
    chain.mine(9)
    tx = t.execute(
        [s.rounds], [0], calldata, brownie.web3.keccak(text="whitelist 9"), {"from": pharma}
    )
    figures.append(("execute: whitelist 9 contributors (9 SBGT mints)", tx.gas_used, 0))
    figures.append(("  per contributor whitelisted (average)", tx.gas_used // 9, 0))

    # financial chamber vote
    f = s.financial
    fcall = [s.subdao.mintSDT.encode_input(pharma, WAD)]
    tx = f.propose([s.subdao], [0], fcall, "emit", {"from": backers[0]})
    fpid = tx.events["ProposalCreated"]["proposalId"]
    chain.mine(2)
    tx = f.castVote(fpid, 1, {"from": backers[0]})
    figures.append(("financial chamber castVote (SDT)", tx.gas_used, 86_000))

    # one round with 10 contributors and 3 validators
    deadline = chain.time() + 3_600
    tx = s.rounds.openRound(
        "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", deadline, {"from": pharma}
    )
    figures.append(("openRound", tx.gas_used, 0))
    rid = tx.events["RoundOpened"]["roundId"]
    cid = "bafkreidgvpkjawlxz6sffxzwgooowe5yt7i6wsyg236mfoks77nywkptdq"
    commits = [s.rounds.commitUpdate(rid, cid, {"from": c}).gas_used for c in contributors]
    figures.append(("commitUpdate (first in round)", commits[0], 80_000))
    figures.append(("commitUpdate (max)", max(commits), 80_000))
    chain.sleep(3_700)
    chain.mine()
    base = [
        9 * 10**17,
        8 * 10**17,
        7 * 10**17,
        6 * 10**17,
        5 * 10**17,
        4 * 10**17,
        3 * 10**17,
        2 * 10**17,
        10**17,
        0,
    ]
    vectors = [base, [x + 10**16 for x in base], [WAD - x for x in base]]  # third deviates: slashed
    gas = [
        s.rounds.submitScores(rid, vec, {"from": v}).gas_used for v, vec in zip(validators, vectors)
    ]
    figures.append(("submitScores (10 contributors, max)", max(gas), 250_000))
    tx = s.rounds.finalizeRound(
        rid, "bafyaggregatedmodelcid000000000000000000000000000000000000", 880_000, {"from": pharma}
    )
    figures.append(("finalizeRound (consensus + 1 slash, 10x3)", tx.gas_used, 800_000))
    fin = tx.gas_used
    acall = [s.rounds.acceptRound.encode_input(rid)]
    tx = t.propose([s.rounds], [0], acall, "accept", {"from": contributors[0]})
    apid = tx.events["ProposalCreated"]["proposalId"]
    chain.mine(2)
    for c in contributors[:3]:
        t.castVote(apid, 1, {"from": c})
    chain.mine(9)
    tx = t.execute([s.rounds], [0], acall, brownie.web3.keccak(text="accept"), {"from": pharma})
    figures.append(("execute acceptRound (version + SBGT points for 10)", tx.gas_used, 800_000))
    figures.append(("finalize + accept (whole decision, 10x3)", fin + tx.gas_used, 0))

    width = max(len(n) for n, _, _ in figures)
    print(f"{'figure':<{width}}  {'gas':>10}  budget")
    for name, used, budget in figures:
        verdict = (
            "" if not budget else (f"<= {budget:,} OK" if used <= budget else f"> {budget:,} OVER")
        )
        print(f"{name:<{width}}  {used:>10,}  {verdict}")
    network.disconnect()


if __name__ == "__main__":
    main()
