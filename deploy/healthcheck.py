"""Container HEALTHCHECK: exit 0 if this container's web server answers /health/ 200."""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("PORT", "8000")
url = f"http://127.0.0.1:{port}/health/"
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except (urllib.error.URLError, OSError) as e:
    print(f"health check failed: {e}", file=sys.stderr)
    sys.exit(1)
