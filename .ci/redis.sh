#!/usr/bin/env bash
# Makes sure redis-server is installed for the distributed tests (test/distributed/),
# which start their own private server on a free 127.0.0.1 port; no service is started
# here. Debian's package is enough (BullMQ needs Redis >= 5; bookworm ships 7.0).
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server
# the package's own service is not needed by the tests; leave it as the distribution set it up
redis-server --version
