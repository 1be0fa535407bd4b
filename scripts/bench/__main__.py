"""`python -m scripts.bench [--quick] [--duration S] [--songs N] ...` (see --help)."""

import sys

from scripts.bench.main import main

sys.exit(main())
