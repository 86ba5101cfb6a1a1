#!/usr/bin/env bash
# Installs a Vulkan driver that Dawn (the `webgpu` npm package) accepts, so the WebGPU
# backend has an adapter on a machine without a GPU: Mesa's lavapipe (a software Vulkan).
#
# Debian 12 ships Mesa 22, whose lavapipe Dawn rejects; bookworm-backports has Mesa 25,
# which works. Safe to run again: it only adds what is missing.
#   sudo scripts/install-vulkan.sh
set -euo pipefail

say() { echo "[install-vulkan] $*"; }

if [ "$(id -u)" -ne 0 ]; then
  say "not root: skipping (run it with sudo to install Mesa's Vulkan drivers)."
  exit 0
fi
if [ ! -r /etc/os-release ] || ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release \
   || ! grep -q '^ID=debian' /etc/os-release; then
  say "not Debian 12 (bookworm): skipping. Install Mesa >= 24 Vulkan drivers (lavapipe) with your package manager."
  exit 0
fi

apt_sources_mention_backports() {
  grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

if apt_sources_mention_backports; then
  say "bookworm-backports already in the apt sources."
else
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  say "added /etc/apt/sources.list.d/bookworm-backports.sources"
fi

installed_mesa_version() {
  dpkg-query -W -f='${Status} ${Version}\n' mesa-vulkan-drivers 2>/dev/null \
    | awk '$3 == "installed" { print $4 }'
}

before="$(installed_mesa_version || true)"
case "$before" in
  2[4-9].*|[3-9][0-9].*)
    say "mesa-vulkan-drivers $before already installed."
    if dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'ok installed'; then
      say "libvulkan1 already installed; nothing to do."
      exit 0
    fi
    ;;
esac

say "apt-get update"
apt-get update -o DPkg::Lock::Timeout=600 -qq
say "installing mesa-vulkan-drivers (bookworm-backports) and libvulkan1"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends \
  -t bookworm-backports mesa-vulkan-drivers libvulkan1
say "mesa-vulkan-drivers: ${before:-none} -> $(installed_mesa_version)"
ls /usr/share/vulkan/icd.d/ 2>/dev/null | sed 's/^/[install-vulkan] ICD: /'
