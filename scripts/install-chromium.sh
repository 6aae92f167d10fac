#!/usr/bin/env bash
# Installs Debian's chromium for packages/core/test/browser-verify.test.ts, which runs the browser
# build of @cloister/core in headless Chromium. Playwright's own browser download is not used:
# CI has no access to its CDN, and the distribution package is the one we can pin and audit.
# Does nothing when /usr/bin/chromium already exists.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "install-chromium: $CHROMIUM is already installed; nothing to do."
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get here; install Chromium so that $CHROMIUM exists, by hand." >&2
  exit 1
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-chromium: need root (or sudo) to install chromium with apt-get." >&2
    exit 1
  fi
  as_root=(sudo)
fi

install=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
echo "install-chromium: ${install[*]}"
if ! "${install[@]}"; then
  # A fresh container has no package lists yet: fetch them once and retry.
  echo "install-chromium: install failed; running apt-get update and retrying."
  "${as_root[@]}" apt-get update
  echo "install-chromium: ${install[*]}"
  if ! "${install[@]}"; then
    echo "install-chromium: apt-get could not install chromium." >&2
    exit 1
  fi
fi

if [[ ! -x "$CHROMIUM" ]]; then
  echo "install-chromium: chromium was installed but $CHROMIUM does not exist." >&2
  exit 1
fi
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")."
