"""Build the sample images in sample-images/ with the real engine.

Run through make.sh (from any directory). Needs a running Docker engine and
skopeo; the busybox base is made offline by the same code the tests use
(tests/support/), and the demo image is the test fixture "demo".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.support import engine, forms, images  # noqa: E402

SAMPLE_TAG = "slimscope-sample/demo:latest"


def main() -> int:
    if engine.engine_client() is None:
        print(f"no Docker engine answers: {engine._client_error}", file=sys.stderr)
        return 1
    fixture = images.fixture_image("demo")
    client = engine.engine_client()
    client.api.tag(fixture, *SAMPLE_TAG.rsplit(":", 1))

    forms.save_archive(SAMPLE_TAG, HERE / "demo.tar")
    forms.oci_layout(SAMPLE_TAG, HERE / "demo-oci", compression="gzip")
    forms.oci_archive(SAMPLE_TAG, HERE / "demo.oci.tar", compression="zstd")

    for p in ("demo.tar", "demo-oci", "demo.oci.tar"):
        size = subprocess.run(["du", "-sb", str(HERE / p)], capture_output=True,
                              text=True, check=True).stdout.split()[0]
        print(f"{p:14} {int(size):>9} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
