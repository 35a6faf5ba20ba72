#!/bin/sh
# The browser test drives Debian's Chromium (never a browser Playwright downloads).
# Installs the packages chromium and chromium-driver when /usr/bin/chromium is missing.
set -eu
[ -x /usr/bin/chromium ] && exit 0
how="install Debian's Chromium yourself, then run make test again:
    sudo apt-get update && sudo apt-get install -y chromium chromium-driver"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: /usr/bin/chromium is missing and this set-up cannot install it (needs root and apt-get);" >&2
  echo "       $how" >&2
  exit 1
fi
echo "installing Debian's chromium and chromium-driver for the browser test ..."
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
  echo "ERROR: apt-get could not install chromium; $how" >&2
  exit 1
fi
[ -x /usr/bin/chromium ]
