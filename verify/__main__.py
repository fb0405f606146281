"""`python -m verify` is the `dmf-verify` command."""

import sys

from verify.cli import main

sys.exit(main())
