"""python -m tests.fuzz [--minutes N] [--seed S | --random-seed] [--family NAME ...]

Runs generated cases until the time is up and prints the counts by outcome; exits 1
when any run broke the contract (each failure is printed with the seed to replay:
`python -m tests.fuzz --seed S --count 1 --family F`... the seed is per case)."""

from __future__ import annotations

import argparse
import random
import sys
import time

from tests.fuzz.cases import FAMILIES
from tests.fuzz.run import GOOD, run, summary


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--count", type=int, default=10 ** 9)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--random-seed", action="store_true")
    ap.add_argument("--family", action="append", choices=sorted(FAMILIES))
    a = ap.parse_args()
    seed = random.SystemRandom().randrange(10 ** 9) if a.random_seed else a.seed
    print(f"seed {seed}", flush=True)
    outcomes = run(a.count, seed, a.family, time.monotonic() + a.minutes * 60)
    print(summary(outcomes))
    return 0 if all(o.kind in GOOD for o in outcomes) else 1


sys.exit(main())
