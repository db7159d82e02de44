"""The ids of every JSON document slimscope writes. Users' scripts check them, so a
change of shape that breaks a reader gets a new id, never a silent edit."""

ANALYSIS = "slimscope.analysis/v1"
DIFF = "slimscope.diff/v1"
CI = "slimscope.ci/v1"
SLIM = "slimscope.slim/v1"
LINT = "slimscope.lint/v1"
