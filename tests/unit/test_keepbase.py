"""Which layers --keep-base keeps: the image's own history first, the engine's
images only to name that base or when the history marks none."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from slimscope.errors import BadInput
from slimscope.slim.keepbase import find_base


class FakeAPI:
    """The two docker API calls keepbase makes, over a fixed set of local images."""

    def __init__(self, images: dict):
        self._images = images

    def images(self):
        return [{"Id": name} for name in self._images]

    def inspect_image(self, name):
        return {"RepoTags": [name], "RootFS": {"Layers": self._images[name]}}


def client(**images):
    return NS(api=FakeAPI({k.replace("_", "/") + ":1": v for k, v in images.items()}))


def analysis(diff_ids, history):
    return NS(layers=[NS(diff_id=d) for d in diff_ids], image=NS(config={"history": history}))


RUN = {"created_by": "/bin/sh -c make"}
CMD = {"created_by": '/bin/sh -c #(nop)  CMD ["bash"]', "empty_layer": True}
IMPORTED = {"created_by": "", "comment": "Imported from -"}


def test_the_history_wins_over_a_sibling_sharing_more_layers():
    # app:2 shares its base AND its first app layer with a sibling app:1
    a = analysis(["b0", "b1", "a0", "a1"], [RUN, RUN, CMD, RUN, RUN])
    c = client(base=["b0", "b1"], app_1=["b0", "b1", "a0"])
    n, why = find_base(a, client=c)
    assert n == 2
    assert why == "the history ends a base with CMD after layer 1; that is the local image base:1"


def test_an_imported_base_is_said_so():
    n, why = find_base(analysis(["b0", "a0"], [IMPORTED, RUN]))
    assert (n, why) == (1, "the history says layer 0 was imported")


def test_the_engine_prefix_only_when_the_history_marks_no_base():
    a = analysis(["b0", "b1", "a0"], [RUN, RUN, RUN])
    n, why = find_base(a, client=client(base=["b0", "b1"], other=["zz"]))
    assert n == 2 and why.startswith("the local image base:1 has exactly the first 2 layers")


def test_no_evidence_asks_for_base_layers():
    with pytest.raises(BadInput, match="--base-layers N"):
        find_base(analysis(["a", "b"], [RUN, RUN]), client=client(other=["zz"]))
    assert find_base(analysis(["a", "b"], [RUN, RUN]), 1) == (1, "given by --base-layers")
