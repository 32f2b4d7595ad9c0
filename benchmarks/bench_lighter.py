"""Lighter: a full offline key registration, and the sandbox's verification of a ChangePubKey.

Targets (issue 5): a registration (generate a key, sign its ChangePubKey with the native signer,
countersign on L1) at least 50 per second; the sandbox verifying a ChangePubKey (parse, hash,
recover the L1 signer, check the Schnorr signature by a key it has never seen) in at most 30 ms.
Baselines in the same run: the official SDK's own registration path (``create_api_key``,
``SignerClient.sign_change_api_key``, which countersigns with eth-account), and typed-lighter's
plain ``schnorr.verify`` of the same signatures.
"""

from __future__ import annotations

import json

from benchmarks.timing import best_per_call
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import signer, wire

ACCOUNT, SLOT, CHAIN = 12345, 42, wire.SANDBOX_CHAIN_ID


def _register(wallet: Wallet, nonce: int) -> tuple[str, str, str]:
    key = signer.generate_api_key()
    signed = signer.NativeSigner(key.private_key, ACCOUNT, SLOT, CHAIN).sign_change_pub_key(
        key.public_key, nonce
    )
    info = json.loads(signed.tx_info)
    info["L1Sig"] = wire.sign_l1(wallet, signed.message_to_sign or "")
    return json.dumps(info), signed.tx_hash, key.public_key


def _sdk_register(eth_key: str, nonce: int) -> None:
    """What ``SignerClient`` does for ``create_api_key`` then ``sign_change_api_key`` (its own functions;
    the client object itself needs a running event loop, which a benchmark does not have)."""
    import ctypes

    from eth_account import Account
    from eth_account.messages import encode_defunct
    from lighter import signer_client as sc

    private, public, err = sc.create_api_key()
    lib = sc.get_signer()
    assert (
        sc.decode_and_free(lib.CreateClient(b"", private.removeprefix("0x").encode(), CHAIN, SLOT, ACCOUNT))
        is None
    )
    res = lib.SignChangePubKey(ctypes.c_char_p(public.encode()), 0, nonce, SLOT, ACCOUNT)
    err, tx_info = sc.decode_and_free(res.err), sc.decode_and_free(res.txInfo)
    sc.decode_and_free(res.txHash)
    message = sc.decode_and_free(res.messageToSign)
    assert err is None, err
    info = json.loads(tx_info)
    info["L1Sig"] = Account.from_key(eth_key).sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    json.dumps(info)


def _verify(tx_info: str, wallet_address: str) -> None:
    tx = wire.parse_tx(wire.TX_CHANGE_PUB_KEY, tx_info)
    digest = wire.tx_hash(tx.tx, CHAIN)
    message = wire.change_pub_key_message(tx.tx.pub_key, tx.nonce, tx.account_index, tx.api_key_index)  # type: ignore[attr-defined]
    assert wire.recover_l1_signer(message, tx.l1_sig) == wallet_address
    assert wire.verify_signature(tx.tx.pub_key, digest, tx.sig)  # type: ignore[attr-defined]


def run() -> bool:
    from typed_lighter.core.signer import schnorr

    wallet = Wallet.generate()
    ours = best_per_call(lambda i: _register(wallet, i), 60, rounds=3)
    try:
        sdk = best_per_call(lambda i: _sdk_register(wallet.private_key.reveal(), i), 60, rounds=3)
    except ImportError:
        sdk = float("nan")

    txs = [_register(wallet, i) for i in range(40)]  # each by a key the verifier has never seen
    from typed_lighter.core.signer import curve

    curve.GeneratorTable.get()  # built once per process, on the first verification
    verify = best_per_call(lambda i: _verify(txs[i][0], wallet.address), len(txs), rounds=1)
    plain = best_per_call(
        lambda i: schnorr.verify(
            pk=bytes.fromhex(txs[i][2][2:]),
            msg_hash=bytes.fromhex(txs[i][1]),
            sig=wire.parse_tx(8, json.loads(txs[i][0])).sig,
        ),
        len(txs),
        rounds=1,
    )
    # a key that signs often (orders) gets its own table after a few transactions
    key = signer.generate_api_key()
    s = signer.NativeSigner(key.private_key, ACCOUNT, SLOT, CHAIN)
    orders = [s.sign_cancel_all_orders(0, 0, i) for i in range(40)]
    parsed = [(wire.parse_tx(16, o.tx_info), bytes.fromhex(o.tx_hash)) for o in orders]
    pk = wire.public_key_bytes(key.public_key)
    for tx, digest in parsed[:8]:
        wire.verify_signature(pk, digest, tx.sig)
    hot = best_per_call(
        lambda i: wire.verify_signature(pk, parsed[i][1], parsed[i][0].sig), len(parsed), rounds=1
    )

    reg_rate, sdk_rate = 1 / ours, 1 / sdk
    print("Lighter (issue 5)")
    print(
        f"  offline registration (generate, native sign, L1 countersign): {reg_rate:,.0f}/s "
        f"(target 50/s); the SDK's own path {sdk_rate:,.0f}/s, ratio {reg_rate / sdk_rate:.2f}x"
    )
    print(
        f"  sandbox verification of a ChangePubKey by a new key: {verify * 1e3:.1f} ms (target 30 ms); "
        f"typed-lighter's plain verify {plain * 1e3:.1f} ms, ratio {plain / verify:.2f}x"
    )
    print(f"  verification by a key seen before (per-key table): {hot * 1e3:.1f} ms")
    ok = reg_rate >= 50 and verify <= 0.030
    print(f"  {'PASS' if ok else 'FAIL'}")
    return ok
