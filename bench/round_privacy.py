"""Print what keeping a round private costs in the pipeline, beside the plaintext round.

One round of ``configs/scenario.yaml`` (5 custodians, 3 validators, 3 compute nodes, d = 30)
from the all-zero model, step by step:

* scoring: :func:`flai.pipeline.scoring.score_on_shares` (bundles decoded, uploads opened,
  norms and consistency opened, holdouts shared, the three-party protocol per validator,
  φ finalised) versus the plaintext engine's check and score phases for every validator
  (:func:`flai.fl.check_phase`, :func:`flai.fl.score_phase`);
* the model: :func:`flai.pipeline.model_release.seal_aggregate` plus one reader opening it
  (:func:`~flai.pipeline.model_release.load_model`) versus :func:`flai.fl.phi_weighted_fedavg`;
* the acceptance metric: the secure AUC of every validator on converted shares versus
  :meth:`flai.fl.LogisticModel.evaluate`;
* bytes: one bundle, one release manifest.

Usage: ``python bench/round_privacy.py``. Best of repeats on a shared 2-core machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.fl import LogisticModel, check_phase, phi_weighted_fedavg, score_phase
from flai.pipeline import KeyStore, build_setting, load_config
from flai.pipeline.model_release import load_model, seal_aggregate
from flai.pipeline.round_flow import _Round, _seal_update, _secure_aucs, _train
from flai.pipeline.scoring import score_on_shares

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def _best_ms(fn: Callable[[], Any]) -> float:
    out = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e3)
    return min(out)


def main() -> None:
    config = load_config(ROOT / "configs" / "scenario.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        fed = build_setting(config, keys=KeyStore(directory=tmp)).federation
    base = LogisticModel.zeros(30)
    updates = {h.name: _train(fed, h, base, 0) for h in fed.hospitals}
    bundles = {h.name: _seal_update(fed, h, updates[h.name], round_id=1) for h in fed.hospitals}
    names = tuple(bundles)

    def secure() -> Any:
        return score_on_shares(
            fed,
            t=0,
            round_id=1,
            global_model=base,
            submitters=names,
            bundles=bundles,
            cids={n: n for n in names},
            step="bench",
        )

    def plaintext() -> Any:
        out = []
        for i, v in enumerate(fed.validators):
            ups = []
            for n in names:
                check = check_phase(
                    updates[n], global_model=base, custodian=n, config=fed.round_config.checks
                )
                ups.append(updates[n] if check.accepted else None)
            out.append(
                score_phase(
                    v,
                    index=i,
                    global_model=base,
                    updates=ups,
                    num_samples=[1] * len(ups),
                    config=fed.round_config,
                    t=0,
                )
            )
        return out

    outcome = secure()
    phi = {n: max(a.scores[i] for a in outcome.assessments) for i, n in enumerate(names)}
    t_secure, t_plain = _best_ms(secure), _best_ms(plaintext)
    print("== one round of the scenario (K = 5, V = 3, d = 30), best of", REPEATS)
    print(f"scoring     secure {t_secure:9.1f} ms   plaintext {t_plain:7.1f} ms   "
          f"ratio {t_secure / t_plain:5.1f}x")

    def sealed() -> Any:
        s = seal_aggregate(
            fed, round_id=1, nodes=outcome.nodes, phi=phi, available=[0, 1, 2], step="bench"
        )
        return s, load_model(s.blob, fed=fed, reader=names[0])

    def plain_model() -> Any:
        return phi_weighted_fedavg(
            [updates[n] for n in names], [phi[n] / 1e18 for n in names], previous=base
        )

    release, model = sealed()
    t_seal, t_avg = _best_ms(sealed), _best_ms(plain_model)
    print(f"model       sealed {t_seal:9.1f} ms   plaintext {t_avg:7.1f} ms   "
          f"ratio {t_seal / t_avg:5.1f}x  (seal by 3 nodes + one reader opens)")

    state = _Round(
        fed=fed, port=None, storage=None, journal=None, t=0, round_id=1, global_model=base
    )  # type: ignore[arg-type]
    t_auc = _best_ms(lambda: _secure_aucs(state, release, [0, 1, 2]))
    t_eval = _best_ms(lambda: [model.evaluate(v.holdout, "auc") for v in fed.validators])
    aucs = _secure_aucs(state, release, [0, 1, 2])
    plain = {v.validator_id: model.evaluate(v.holdout, "auc") for v in fed.validators}
    rows = [v.holdout.num_samples for v in fed.validators]
    print(f"AUC (x{len(rows)}) secure {t_auc:9.1f} ms   plaintext {t_eval:7.1f} ms   "
          f"holdout rows {rows}, max |secure - plaintext| "
          f"{max(abs(aucs[k] - plain[k]) for k in aucs):.2e}")
    print(f"bytes       bundle {len(bundles[names[0]]):,} B per custodian, "
          f"release manifest {len(release.blob):,} B "
          f"({len(fed.hospitals) + len(fed.validators)} readers)")


if __name__ == "__main__":
    main()
