"""Run every benchmark module in this package; each prints its figures and its target."""

import importlib
import pkgutil
import sys

import benchmarks


def main() -> int:
    modules = [m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")]
    if not modules:
        print("No benchmarks yet: the performance targets arrive with the engine and the DataFrame views.")
        return 0
    failed = 0
    for name in sorted(modules):
        failed += not importlib.import_module(f"benchmarks.{name}").run()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
