"""`slim --trace`: keep only what the image's probes use, proven by replaying them.

fanotify   the host-side watch on one filesystem (open, exec, read events)
containers the probe containers, and the watch placed before their first process
probes     --exec / --http-probe / --probe-script runs and how outcomes compare
tracer     probe containers started under a watch; the paths they opened
tree       the image's final tree: symlinks resolved inside it, files read from a mount
elf        the ELF closure (interpreter, DT_NEEDED) found as the image's loader would
keep       what is kept and why; the removal plan as the complement
keeplist   --keep-list / --keep-from files
session    the whole traced slim: observe, plan, replay, report
"""
