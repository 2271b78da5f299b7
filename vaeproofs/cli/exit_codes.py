"""Exit codes of every ``vaeproofs`` command; each code means one thing.

| code | meaning |
|---|---|
| 0 | success (verify: every claim decided; audit: decided, no conflict) |
| 1 | evidence conflict: evidence for one statement contradicts itself |
| 2 | bad arguments or input (one line on stderr naming the option) |
| 3 | undecided: a claim (or an audit) could not be decided |
| 4 | internal error: a bug in vaeproofs (one line on stderr; please report it) |
| 5 | audit --require-bounded: the audit decided "not bounded" (undecided stays 3, conflict 1) |
| 130 | interrupted (Ctrl-C); the record so far is kept where the command writes one |
"""

from __future__ import annotations

__all__ = ["EXIT_CONFLICT", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_NOT_BOUNDED", "EXIT_OK",
           "EXIT_UNDECIDED", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_CONFLICT = 1
EXIT_USAGE = 2
EXIT_UNDECIDED = 3
EXIT_INTERNAL = 4
EXIT_NOT_BOUNDED = 5
EXIT_INTERRUPTED = 130
