"""One name for a layer's command in every report (core/fmt.py)."""

from __future__ import annotations

from slimscope.core.fmt import layer_command, plural, short_command

HASH = "4fc5e933d5b0fb75860352152107ade1a0129f464f5fdda7abfeecb677f86264"


def test_copy_with_a_content_hash_shows_the_destination():
    assert short_command(f"/bin/sh -c #(nop) COPY file:{HASH} in /root/.ssh/id_rsa ") == \
        "COPY … /root/.ssh/id_rsa"
    assert short_command(f"/bin/sh -c #(nop) ADD dir:{HASH} in /usr/share ") == "ADD … /usr/share"
    assert short_command(f"COPY --chown=1:1 multi:{HASH} in /app/ ") == "COPY … /app/"
    # a COPY the user spelled out (BuildKit) stays as written
    assert short_command("COPY app.py /srv/ # buildkit") == "COPY app.py /srv/ # buildkit"


def test_cut_to_a_width_with_an_ellipsis():
    text = short_command("/bin/sh -c apt-get update && apt-get install -y curl", 20)
    assert text == "apt-get update && a…" and len(text) == 20


def test_a_layer_without_command_takes_its_history_comment():
    # as analyze names layer 0 ("Imported from -"), so does diff
    assert short_command(layer_command({"created_by": "", "comment": "Imported from -"})) == \
        "Imported from -"
    assert short_command(layer_command({"created_by": ""})) == "(no command recorded)"


def test_plural():
    assert plural(1, "group") == "1 group"
    assert plural(2, "group") == "2 groups"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(1204, "entry", "entries") == "1,204 entries"
