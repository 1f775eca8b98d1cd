"""`python -m automl.cli ARGS`, as the `automl` command."""

import sys

from automl.cli.app import main

sys.exit(main())
