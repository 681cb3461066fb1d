#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine: installs the servers
# the integration tests start (Prosody 0.12, ejabberd 23.01, and the tools of
# the browser and comparison tests), builds the Debian trixie chroot with
# Prosody 13 and ejabberd 24.12 (internal/testserver/trixie-chroot.sh, about a
# minute and 340 MB the first time; $ONBOARD_TRIXIE, default
# /var/tmp/onboard-trixie), downloads the Go modules, then runs go vet, every
# test with the race detector, and each fuzz target briefly.
#
#   ./test.sh                 # everything
#   FUZZTIME=60s ./test.sh    # longer fuzzing per target (default 5s; 0 skips)
#   SKIP_INSTALL=1 ./test.sh  # do not touch apt or build the chroot
set -euo pipefail
cd "$(dirname "$0")"

packages=(prosody ejabberd python3-slixmpp chromium ca-certificates)
if [[ -z "${SKIP_INSTALL:-}" ]]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "test.sh: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Prosody 13 and ejabberd 24.12 next to the host's versions (does nothing
  # when the chroot is already there).
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo env ONBOARD_TRIXIE="${ONBOARD_TRIXIE:-}" ./internal/testserver/trixie-chroot.sh
  # axe-core (npm), the accessibility checker the sign-up page's browser
  # test injects (pinned in examples/websignup/testdata/axe/package.json).
  if ! command -v npm >/dev/null; then
    $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  npm install --prefix examples/websignup/testdata/axe --no-package-lock --no-audit --no-fund >/dev/null
fi

command -v go >/dev/null || { echo "test.sh: Go 1.24 or newer is required (https://go.dev/dl/)" >&2; exit 1; }
go mod download
go vet ./...
go test -race -count=1 -timeout 30m ./...

fuzztime="${FUZZTIME:-5s}"
fuzzlog=$(mktemp)
trap 'rm -f "$fuzzlog"' EXIT
if [[ "$fuzztime" != "0" ]]; then
  for pkg in $(go list ./...); do
    for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
      echo "fuzz $pkg $target ($fuzztime)"
      if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$fuzzlog" 2>&1; then
        tail -n 40 "$fuzzlog" >&2
        exit 1
      fi
    done
  done
fi
echo "test.sh: all tests passed"
