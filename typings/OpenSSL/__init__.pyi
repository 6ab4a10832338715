# Only what trustme's annotations name (tests/faults/test_tls.py): pyOpenSSL is not a dependency.
from . import SSL as SSL
