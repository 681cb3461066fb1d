#!/usr/bin/env bash
# trixie-chroot.sh [ROOT] -- make the Debian trixie chroot that internal/testserver
# runs Prosody 13 and ejabberd 24.12 from (the host keeps bookworm's Prosody
# 0.12 and ejabberd 23.01). ROOT defaults to $ONBOARD_TRIXIE, then
# /var/tmp/onboard-trixie, the harness's own default. Needs root.
#
# Nothing is done when ROOT already has both servers. Otherwise the system
# is bootstrapped into ROOT.partial next to it and renamed to ROOT only once
# every package is in, so an interrupted run never leaves a ROOT that looks
# finished. MIRROR overrides the Debian mirror (by default the one apt on
# this machine uses).
set -euo pipefail

root=${1:-${ONBOARD_TRIXIE:-/var/tmp/onboard-trixie}}
servers=(prosody prosody-modules lua-unbound ejabberd openssl ca-certificates)

case $root in
  /* ) ;;
  * ) echo "trixie-chroot.sh: ROOT must be an absolute path, got '$root'" >&2; exit 1 ;;
esac
if [[ $root == / ]]; then
  echo "trixie-chroot.sh: ROOT must not be /" >&2
  exit 1
fi
if [[ -x $root/usr/bin/prosody && -x $root/usr/sbin/ejabberdctl ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "trixie-chroot.sh: must run as root (debootstrap and chroot)" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# The first plain Debian archive in apt's sources, one-line or deb822 style
# (not debian-security, not a third-party repository).
mirror=${MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE '^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?([[:space:]]|$)' |
    grep -oE 'https?://[^[:space:]]+' | head -n 1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$root.partial
mkdir -p "$(dirname "$root")"
if [[ ! -x $work/usr/bin/apt-get ]]; then
  rm -rf "$work"
  echo "trixie-chroot.sh: debootstrap trixie from $mirror into $work (log: $work.log)"
  if ! debootstrap --variant=minbase trixie "$work" "$mirror" >"$work.log" 2>&1; then
    tail -n 20 "$work.log" >&2
    exit 1
  fi
fi

# Package scripts must not start the servers inside the chroot.
cat >"$work/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
exit 101
EOF
chmod 755 "$work/usr/sbin/policy-rc.d"

# Package scripts are chatty (no /dev/pts, no FQDN, runlevel unknown, all
# harmless here): keep their output in the log unless something fails.
echo "trixie-chroot.sh: installing ${servers[*]}"
if ! { chroot "$work" apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive chroot "$work" apt-get install -y -qq --no-install-recommends "${servers[@]}" &&
  chroot "$work" apt-get clean; } >>"$work.log" 2>&1; then
  tail -n 30 "$work.log" >&2
  exit 1
fi
chroot "$work" dpkg-query -W prosody prosody-modules ejabberd erlang-base

rm -rf "$root"
mv "$work" "$root"
rm -f "$work.log"
echo "trixie-chroot.sh: ready: $root"
