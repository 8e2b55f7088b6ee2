#!/usr/bin/env bash
# Package a built provider binary the way .goreleaser.yaml names a release, for one platform:
#   scripts/package.sh BINARY VERSION OS_ARCH OUT_DIR     (e.g. target/release/terraform-provider-lws 0.1.0 linux_amd64 dist)
# writes OUT_DIR/terraform-provider-lws_VERSION_OS_ARCH.zip (holding terraform-provider-lws_vVERSION),
# OUT_DIR/terraform-provider-lws_VERSION_manifest.json and OUT_DIR/terraform-provider-lws_VERSION_SHA256SUMS,
# plus a detached signature of the sums when GPG_FINGERPRINT names a key.
# The packaging test installs the result through a filesystem_mirror, as a user would a release.
set -euo pipefail
[ $# -eq 4 ] || { sed -n '2,3p' "$0" >&2; exit 2; }
binary=$1 version=$2 platform=$3 out=$4
root=$(cd "$(dirname "$0")/.." && pwd)
name=terraform-provider-lws
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

exe=""
case "$platform" in windows_*) exe=.exe ;; esac
install -m 0755 "$binary" "$work/${name}_v${version}${exe}"
zip="${name}_${version}_${platform}.zip"
rm -f "$out/$zip"
# Python's zipfile keeps the executable bit (no dependency on the zip package).
(cd "$work" && python3 -m zipfile -c "$out/$zip" "${name}_v${version}${exe}")

cp "$root/terraform-registry-manifest.json" "$out/${name}_${version}_manifest.json"
(cd "$out" && sha256sum ./*"_${version}_"*.zip "${name}_${version}_manifest.json" | sed 's| \./| |' \
  > "${name}_${version}_SHA256SUMS")
if [ -n "${GPG_FINGERPRINT:-}" ]; then
  gpg --batch --yes --local-user "$GPG_FINGERPRINT" --detach-sign \
    --output "$out/${name}_${version}_SHA256SUMS.sig" "$out/${name}_${version}_SHA256SUMS"
fi
echo "$out/$zip"
