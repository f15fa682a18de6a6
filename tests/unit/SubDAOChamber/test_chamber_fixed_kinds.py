"""Chambers: the hard-coded rules win over the reclassification table.

The calls that decide how the SubDAO decides, or who holds its votes, are Significant (75 %)
whatever the table says, and `setSelectorKind` refuses to reclassify them: the table itself
(`setSelectorKind`), the round rules (`setParams`: FLock auto-accept, tolerance, slashing), the
SBGT decay that weighs technical votes (`setDecay`), SDT minting (financial votes) and
revoking a contributor's SBGT (technical votes). Otherwise one 75 % vote could make, say,
`setSelectorKind` Operational, and from then on a bare majority could reclassify anything.
"""

import brownie
import pytest

from tests.fixtures.subdao import execute, govern, vote_through
from tests.helpers import custom_error

OPERATIONAL, SIGNIFICANT = 0, 1

FIXED = [
    ("technical", "setSelectorKind"),
    ("rounds", "setParams"),
    ("rounds", "setDecay"),
    ("rounds", "revokeContributor"),
    ("subdao", "mintSDT"),
]


@pytest.mark.parametrize("component, function", FIXED)
def test_fixed_selector_cannot_be_reclassified(launched_suite, hospitals, component, function):
    s = launched_suite
    t = s.technical
    sel = getattr(getattr(s, component), function).signature
    assert t.selectorKind(sel) == SIGNIFICANT
    change = [t.setSelectorKind.encode_input(sel, OPERATIONAL)]
    vote_through(t, [t], change, hospitals[:3], f"make {function} operational")  # 100 % for
    with brownie.reverts(custom_error("ChamberSelectorKindFixed", bytes.fromhex(sel[2:]))):
        execute(t, [t], change, f"make {function} operational", hospitals[0])
    assert t.selectorKind(sel) == SIGNIFICANT


def test_other_selectors_stay_reclassifiable(launched_suite, hospitals):
    s = launched_suite
    t = s.technical
    sel = s.subdao.retire.signature
    tx = govern(t, [t], [t.setSelectorKind.encode_input(sel, OPERATIONAL)], hospitals[:3], "r")
    assert (
        tx.events["SelectorKindSet"]["kind"] == OPERATIONAL and t.selectorKind(sel) == OPERATIONAL
    )
    # a proposal that reclassifies is itself Significant, whatever it reclassifies
    assert t.kindOf([t.setSelectorKind.encode_input(sel, SIGNIFICANT)]) == SIGNIFICANT
