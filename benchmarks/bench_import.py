"""`import toolkit` in a fresh interpreter: the package map is lazy, so a kernel that only wants
`toolkit.run` or `toolkit.Secret` pays for nothing else. Target: at most 0.2 s more than the
baseline, a bare interpreter started the same way in the same run; and `import toolkit.frames`
(pandas, polars, pyarrow) shown beside it for scale."""

from __future__ import annotations

import subprocess
import sys
import time

TARGET_S = 0.2


def _start(code: str, rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def run() -> bool:
    bare = _start("pass")
    package = _start("import toolkit; dir(toolkit)")
    frames = _start("import toolkit.frames", rounds=3)
    extra = package - bare
    ok = extra <= TARGET_S
    print(
        f"import toolkit: {extra * 1000:.0f} ms over a bare interpreter ({bare * 1000:.0f} ms); "
        f"import toolkit.frames: {(frames - bare) * 1000:.0f} ms "
        f"(target toolkit <= {TARGET_S * 1000:.0f} ms) {'OK' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
