"""`python -m crawler.cli ...` is `arshif ...`."""

import sys

from crawler.cli.main import main

sys.exit(main())
