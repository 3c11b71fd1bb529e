#!/usr/bin/env bash
# Installs everything vbus needs on a fresh Debian machine: the Debian packages the
# tests drive (Chromium for the browser tests; socat, iproute2 and ping for venet-tap), then
# the npm dependencies from package-lock.json, then the v86 guest image. Safe to run
# again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "== installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

echo "== npm ci"
npm ci --no-audit --no-fund

# The v86 guest image (Debian's i386 kernel, busybox, SeaBIOS) in build/v86-image/: built
# once from Debian packages, kept until its package versions change.
bash scripts/build-v86-image.sh
