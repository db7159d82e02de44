"""The generated Dockerfile: a builder/runtime split of the final stage, FROM scratch for
static results, or the image-driven fallback; in-place fixes everywhere.

The pieces: stages.py plans what each instruction is for, outputs.py finds what the
runtime copies from the builder, runtime.py writes the two stages, fallback.py the
image-driven rewrite; this module decides between them.
"""

from __future__ import annotations

from typing import Optional

from slimscope.core.dockerconfig import config_lines  # noqa: F401  (the fallback's config)
from slimscope.dockerfile.fallback import fallback
from slimscope.dockerfile.fixes import Change, fix_stage
from slimscope.dockerfile.outputs import copies as runtime_copies  # noqa: F401
from slimscope.dockerfile.outputs import elf_static, static_verdict
from slimscope.dockerfile.runtime import builder_stage, runtime_stage
from slimscope.dockerfile.stages import NoMeasure, Result, entry_paths, from_ref, header, plan_steps, short

__all__ = ["generate", "fallback", "Result", "config_lines", "elf_static"]


def generate(df, measure, analysis=None, base: Optional[str] = None, context_dir: Optional[str] = None,
             legacy_builder: bool = False, image_ref: str = "") -> Result:
    result = _generate(df, measure, analysis, base, context_dir, legacy_builder, image_ref)
    if result.mode != "fallback":
        # kept as written, like everything slimscope does not rewrite; lint's
        # unknown-instruction finding, said where the generated file is made
        result.notes[:0] = [f"line {ins.line}: {ins.cmd} is not a Dockerfile instruction; kept as "
                            "written, and a build stops there" for ins in df.instructions
                            if not ins.known]
    return result


def _generate(df, measure, analysis, base, context_dir, legacy_builder, image_ref) -> Result:
    final = df.final
    changes: list = []
    notes: list = []
    head = header(df)

    parts = []
    for st in df.stages[:-1]:
        outs = fix_stage(st.instructions, NoMeasure(), legacy_builder)
        changes += [c for o in outs for c in o.changes]
        parts.append("\n".join(o.render() for o in outs if o.render()))

    outs = fix_stage(final.instructions, measure, legacy_builder)
    steps = plan_steps(outs, context_dir)
    build_steps = [s for s in steps if s.builds]
    build_pkgs = [p for s in steps if s.step for p in s.step.build_packages]
    unknown = [s for s in steps if s.kind == "unknown"]

    if unknown and (build_steps or build_pkgs) and analysis is not None and image_ref:
        first = unknown[0].ins
        return fallback(analysis, image_ref, reason=f"line {first.line} ({short(first)}) is not a "
                                                    "step slimscope can classify")
    if not build_steps and not build_pkgs:
        body = "\n".join(o.render() for o in outs if o.render())
        changes += [c for o in outs for c in o.changes]
        notes.append("no build-only step found: in-place fixes only")
        return Result(head + "\n".join(parts + [body]) + "\n", "fixes", changes, notes)

    builder = "builder"
    taken = df.stage_names()
    while builder in taken:
        builder = "slimscope-" + builder
    base_image = final.base
    from_ins = final.instructions[0]

    b_lines = builder_stage(steps, builder)
    entry = entry_paths(steps)
    copies = runtime_copies(analysis, measure, build_steps, entry, notes)
    rt = runtime_stage(steps, copies, builder, measure)
    changes += rt.changes
    notes += rt.notes

    runtime_pkgs = [p for s in steps if s.step for p in s.step.runtime_packages]
    runtime_base = base or base_image
    if base is None and not runtime_pkgs and not rt.runs \
            and static_verdict(analysis, copies, entry, build_steps, steps) is True:
        runtime_base = "scratch"
    r_from = f"FROM {runtime_base}" if runtime_base != base_image else f"FROM {from_ref(from_ins)}"
    first = ["# slimscope: runtime stage: " + (
        "FROM scratch, the result is statically linked and needs nothing else"
        if runtime_base == "scratch" else f"from {runtime_base}, runtime packages only"), r_from]
    if runtime_base == "scratch":
        user = next((s.ins.expanded for s in steps if s.ins.cmd == "USER"), None)
        if user and not user.split(":")[0].isdigit():
            first.append(f"COPY --from={builder} /etc/passwd /etc/group /etc/")
    scratch = runtime_base == "scratch"
    changes.append(Change("multi-stage", from_ins.line, "builder/runtime split"
                          + (", runtime FROM scratch" if scratch else ""),
                          measure.base_bytes() if scratch else None))
    mode = "scratch" if scratch else "split"
    text = head + "\n".join(parts + ["\n".join(b_lines), "\n".join(first + rt.body)]) + "\n"
    return Result(text, mode, changes, notes)
