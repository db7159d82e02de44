"""`slimscope tui`: the Textual terminal explorer.

Only modules of this package import Textual; `command` imports it lazily so the
rest of the CLI starts fast.
"""
