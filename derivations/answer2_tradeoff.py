"""Re-derive the discussion's second answer (the 1-D KL-versus-precision example).

Prints the derivations ``answer2-tradeoff`` and ``answer2-learnable-mean`` step by
step with their computed facts and writes ``DIR/<name>.md`` (Markdown with LaTeX).

Usage: ``python derivations/answer2_tradeoff.py [--out DIR] [--quiet]``.
"""

from _runner import run_derivations

if __name__ == "__main__":
    raise SystemExit(run_derivations(["answer2-tradeoff", "answer2-learnable-mean"]))
