"""`slimscope slim`: rewrite an image smaller and prove the result still matches.

plan      what goes (--remove globs, --preset rules) and the bytes each rule frees
offline   the final filesystem streamed into one new layer; docker-archive / OCI writers
engine    `docker export` filtered into one layer, loaded with the image's whole config
keepbase  which layers are the base image (--keep-base)
verify    the output's filesystem and config against the input's, and --smoke runs
report    before/after sizes and where the saved bytes came from
trace/    --trace: run the image, keep what its probes use, replay them on the result
command   the click command
"""
