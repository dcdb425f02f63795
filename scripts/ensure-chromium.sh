#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (cs336 export web). Never fails the caller: when
# it cannot install (no root, no apt, no network), it prints one line and those tests skip, saying why.
if [ -x "${CS336_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "chromium: $("${CS336_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo present)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1 \
  && $SUDO apt-get update -qq >/dev/null 2>&1 \
  && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
  echo "chromium: installed $(/usr/bin/chromium --version 2>/dev/null)"
else
  echo "chromium: could not install with apt-get; the browser tests will skip"
fi
exit 0
