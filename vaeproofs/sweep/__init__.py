"""Sweeps: many independent training runs from one TOML spec, locally or on Dask.

- :mod:`~vaeproofs.sweep.spec`: parse and validate a spec (``[fixed]`` and ``[grid]``).
- :mod:`~vaeproofs.sweep.backends`: :func:`run_tasks`, a picklable function over tasks on
  local worker processes, Dask, or serially; results as they complete.
- :mod:`~vaeproofs.sweep.store`: ``DIR/runs/<id>.json`` and ``DIR/results.csv``; resumption.
- :mod:`~vaeproofs.sweep.runner`: :func:`run_sweep`, the three above put together.
- :mod:`~vaeproofs.sweep.figures`: one figure per metric against the grid's numeric axis.

Importing this package loads neither torch nor dask.
"""

from vaeproofs.sweep.backends import BACKENDS, Done, run_tasks
from vaeproofs.sweep.spec import SweepSpec, load_preset, load_spec, parse_spec, run_id

__all__ = ["BACKENDS", "Done", "SweepSpec", "load_preset", "load_spec", "parse_spec", "run_id", "run_tasks"]
