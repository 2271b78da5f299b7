"""``python -m vaeproofs`` runs the command line."""

import sys

from vaeproofs.cli import main

sys.exit(main())
