"""Measured bytes per Dockerfile instruction: pair the image's history (`created_by`)
with the instructions of the stage it was built from."""

from __future__ import annotations

import re
from typing import Optional

from slimscope.core.paths import HistoryTable

KEYWORDS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
            "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")


def parse_created_by(created_by: str) -> tuple:
    """(KEYWORD, text) of a history entry, legacy builder and BuildKit spellings."""
    t = (created_by or "").strip()
    t = re.sub(r"\s+# buildkit$", "", t)
    t = re.sub(r"^\|\d+(\s+\S+=\S*)*\s+", "", t)   # RUN with build args: |2 A=1 B=2 /bin/sh -c ...
    nop = False
    for prefix in ("/bin/sh -c #(nop)", "#(nop)"):
        if t.startswith(prefix):
            t, nop = t[len(prefix):].strip(), True
    if not nop and t.startswith("/bin/sh -c "):
        return "RUN", t[len("/bin/sh -c "):]
    head = t.split(None, 1)
    if head and head[0].upper() in KEYWORDS and (nop or head[0].isupper()):
        kw = head[0].upper()
        body = head[1] if len(head) > 1 else ""
        if kw == "RUN" and body.startswith("/bin/sh -c "):
            body = body[len("/bin/sh -c "):]
        return kw, body
    return ("RUN", t) if t else ("", "")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


class Measure:
    """Bytes of the layer each instruction of the final stage made, from `analysis`."""

    def __init__(self, analysis, instructions: list):
        self.analysis = analysis
        self._table: Optional[HistoryTable] = None   # made when bytes_under is first asked
        self.by_line: dict = {}      # instruction line -> layer index (None: empty layer)
        history = (analysis.image.config.get("history") or [])
        entries: list[tuple[dict, Optional[int]]] = []   # (history entry, its layer)
        layer = 0
        for h in history:
            if h.get("empty_layer"):
                entries.append((h, None))
            else:
                entries.append((h, layer))
                layer += 1
        todo = [i for i in instructions if i.cmd != "FROM"]
        j = len(entries) - 1
        first_paired_entry = len(entries)
        for ins in reversed(todo):
            k = j
            while k >= 0 and k >= j - 3:
                kw, body = parse_created_by(entries[k][0].get("created_by", ""))
                if kw == ins.cmd and (kw != "RUN" or self._same_run(ins, body)):
                    self.by_line[ins.line] = entries[k][1]
                    first_paired_entry = k
                    j = k - 1
                    break
                k -= 1
        # the layers of the base image: those before the first paired entry
        self.base_layers = [l for _, l in entries[:first_paired_entry] if l is not None]
        if not self.by_line:
            self.base_layers = []

    @staticmethod
    def _same_run(ins, body: str) -> bool:
        if ins.json_form is not None:
            return _squash(" ".join(ins.json_form)) in _squash(body) or _squash(body).startswith("[")
        a, b = _squash(ins.rest), _squash(body)
        return a == b or (bool(a) and (a in b or b in a))

    @property
    def paired(self) -> bool:
        return bool(self.by_line)

    def layer(self, ins) -> Optional[int]:
        return self.by_line.get(ins.line)

    def known(self, ins) -> bool:
        return ins.line in self.by_line

    def layer_bytes(self, ins) -> Optional[int]:
        """Content bytes the instruction's layer stores (0 for an empty layer)."""
        if not self.known(ins):
            return None
        li = self.by_line[ins.line]
        return 0 if li is None else self.analysis.layers[li].bytes

    def hides_bytes(self, ins) -> Optional[int]:
        """Bytes of lower layers this instruction's layer hides (deleted, re-stored...)."""
        if not self.known(ins):
            return None
        li = self.by_line[ins.line]
        return 0 if li is None else self.analysis.layers[li].hides_bytes

    def bytes_under(self, ins, prefixes) -> Optional[int]:
        """Content bytes the instruction's layer stores under any of `prefixes`."""
        if not self.known(ins):
            return None
        li = self.by_line[ins.line]
        if li is None:
            return 0
        if self._table is None:
            self._table = HistoryTable(self.analysis.composed)
        return self._table.layer_bytes_under(li, prefixes)

    def base_bytes(self) -> Optional[int]:
        if not self.paired:
            return None
        return sum(self.analysis.layers[l].bytes for l in self.base_layers)


class NoMeasure:
    """Stands in for Measure when no image was given: every number is unknown."""

    paired = False
    base_layers: list = []

    def layer(self, ins):
        return None

    def known(self, ins):
        return False

    def layer_bytes(self, ins):
        return None

    hides_bytes = layer_bytes

    def bytes_under(self, ins, prefixes):
        return None

    def base_bytes(self):
        return None
