#!/usr/bin/env bash
# Installs what the test suite needs beyond pip, from Debian's archive only
# (prebuilt binaries from elsewhere are deliberately not used):
# - promtool and amtool (packages `prometheus`, `prometheus-alertmanager`);
# - the real exporters and servers tests/exporters runs on loopback to prove
#   the metric catalog: PostgreSQL, Redis, nginx and their exporters, node_exporter.
# Idempotent and quiet: installs only what is missing, and stops the services
# that the packages it installed start (the tests start their own processes).
set -euo pipefail

# command -v misses /usr/sbin outside root's PATH; Debian keeps PostgreSQL's server out of PATH.
have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }
have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

missing=()
have promtool || missing+=(prometheus)
have amtool || missing+=(prometheus-alertmanager)
have_postgres || missing+=(postgresql)
have redis-server || missing+=(redis-server)
have nginx || missing+=(nginx)
for exporter in postgres redis nginx node; do
  have "prometheus-$exporter-exporter" || missing+=("prometheus-$exporter-exporter")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing Debian packages: ${missing[*]}. Install them: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's archive"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet unless it fails: then apt's own output says why.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
# Each package's service has the package's name; a fresh install may have started it.
for unit in "${missing[@]}"; do
  (service "$unit" stop || true) >/dev/null 2>&1
done
have promtool && have amtool && have_postgres && have redis-server && have nginx \
  && have prometheus-postgres-exporter && have prometheus-redis-exporter \
  && have prometheus-nginx-exporter && have prometheus-node-exporter
