"""Hostile and broken inputs through the real CLI (issue 18): see run.py for the
contract every run is held to, cases.py for the inputs. CI runs a fixed seed and a
bounded count (test_fuzz.py); `python -m tests.fuzz --minutes 30 --random-seed`
is the long run."""
