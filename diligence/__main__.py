import sys

from diligence.cli import main

sys.exit(main())
