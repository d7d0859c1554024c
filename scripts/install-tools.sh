#!/usr/bin/env bash
# Installs what the test suite needs beyond pip: promtool (Debian package
# `prometheus`) and amtool (`prometheus-alertmanager`). Prebuilt binaries
# from elsewhere are deliberately not used: only Debian's archive.
set -euo pipefail

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing: ${missing[*]} (promtool/amtool). Install them: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's archive"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages' services are not wanted: the tests start their own processes.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for unit in prometheus prometheus-alertmanager; do
  (service "$unit" stop || true) >/dev/null 2>&1
done
command -v promtool >/dev/null && command -v amtool >/dev/null
