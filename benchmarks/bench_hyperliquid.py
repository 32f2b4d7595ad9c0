"""Hyperliquid signing: our L1 signer against the official SDK's, and sandbox-side recovery.

Targets (issue 4): signing an L1 order action at least 5x faster than
``hyperliquid.utils.signing.sign_l1_action`` in the same run, with byte-identical signatures;
signature recovery at least 5,000 per second.
"""

from __future__ import annotations

from benchmarks.timing import best_per_call
from toolkit.venues import eip712
from toolkit.venues import hyperliquid as hl

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"


def run() -> bool:
    from eth_account import Account
    from hyperliquid.utils.signing import sign_l1_action as sdk_sign

    wallet = Account.from_key(KEY)  # both sides parse the key once, as a client would
    signer = eip712.Signer(KEY)
    actions = [
        hl.order_action([hl.order_wire(i % 50, i % 2 == 0, 100 + i, 0.01 * (i + 1))]) for i in range(64)
    ]

    for i, action in enumerate(actions):  # byte-identical first
        theirs = sdk_sign(wallet, action, None, 1_700_000_000_000 + i, None, True)
        ours = hl.sign_l1_action(KEY, action, None, 1_700_000_000_000 + i, None, True)
        assert (int(theirs["r"], 16), int(theirs["s"], 16), theirs["v"]) == (ours.r, ours.s, ours.v)

    sdk = best_per_call(
        lambda i: sdk_sign(wallet, actions[i % 64], None, 1_700_000_000_000 + i, None, True), 200
    )
    toolkit = best_per_call(
        lambda i: hl.sign_l1_action(signer, actions[i % 64], None, 1_700_000_000_000 + i, None, True), 2000
    )
    signatures = [hl.sign_l1_action(KEY, a, None, 7, None, False).to_wire() for a in actions]
    recover = best_per_call(
        lambda i: hl.recover_l1_signer(actions[i % 64], signatures[i % 64], None, 7, None, False), 2000
    )

    ratio, per_second = sdk / toolkit, 1 / recover
    ok = ratio >= 5 and per_second >= 5000
    print("hyperliquid signing")
    print(f"  sign_l1_action, official SDK : {sdk * 1e6:9.1f} us")
    print(f"  sign_l1_action, toolkit      : {toolkit * 1e6:9.1f} us   {ratio:5.1f}x faster (target >= 5x)")
    print(
        f"  recover L1 signer            : {recover * 1e6:9.1f} us   {per_second:,.0f}/s (target >= 5,000/s)"
    )
    print(f"  {'PASS' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
