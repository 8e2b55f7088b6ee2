#!/usr/bin/env bash
# The demo: start simulated Proxmox hosts (lws-sim), `terraform apply` examples/quickstart
# against them, show what was created (Terraform's outputs and the hosts' own `pct list`),
# then destroy it all and stop the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

echo "==> Building the provider and the simulator (the first build takes a few minutes)"
cargo build --quiet --workspace --bins
# Wherever cargo puts them (CARGO_TARGET_DIR, build.target-dir in a cargo config, …).
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target/debug"
tf=$(scripts/terraform.sh | sed -n 's/^path=//p')
[ -n "$tf" ] || tf=$(scripts/terraform.sh | sed -n 's/^wheel=//p')

work=$(mktemp -d /tmp/lws-demo.XXXXXX)
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> Starting simulated Proxmox VE hosts ($bin/lws-sim)"
"$bin/lws-sim" serve --state "$work/sim" \
  --hosts eu-south-1/az1,eu-south-1/az2,us-east-1/az1 > "$work/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do grep -q '^READY$' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^READY$' "$work/sim.out" || { cat "$work/sim.out"; exit 1; }
grep -v '^READY$' "$work/sim.out"

cat > "$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "lws/lws" = "$bin"
  }
  direct {}
}
RC
cp examples/quickstart/*.tf "$work/"
export TF_CLI_CONFIG_FILE=$work/terraformrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TF_VAR_lws_config_file=$work/sim/config.yaml

echo
echo "==> terraform apply (examples/quickstart, $("$tf" version | head -1))"
# Terraform's notice about development overrides is left out; a failed apply fails the demo.
quiet() {
  grep -v -e 'Provider development overrides' -e 'lws/lws in' -e 'The following provider development' \
    -e 'configuration:$' -e 'behavior may therefore' -e 'applying changes may cause' -e '^releases\.$' -e '^$' || true
}
status=0
"$tf" -chdir="$work" apply -auto-approve -input=false -no-color > "$work/apply.out" 2>&1 || status=$?
quiet < "$work/apply.out"
[ "$status" -eq 0 ] || { echo "terraform apply failed (exit $status)"; exit "$status"; }

echo
echo "==> What the Proxmox hosts report (pct list over SSH)"
for host in eu-south-1/az1 eu-south-1/az2; do
  port=$(python3 -c "import json,sys; print([h['port'] for h in json.load(open('$work/sim/hosts.json'))['hosts'] if h['label']=='$host'][0])")
  echo "--- $host"
  ssh -p "$port" -i "$work/sim/keys/client_ed25519" -o UserKnownHostsFile="$work/sim/known_hosts" \
    -o BatchMode=yes -o LogLevel=ERROR -F /dev/null root@127.0.0.1 pct list
done

echo
echo "==> terraform plan (expect no changes)"
status=0
"$tf" -chdir="$work" plan -input=false -no-color -detailed-exitcode > "$work/plan.out" 2>&1 || status=$?
tail -n 3 "$work/plan.out"
[ "$status" -eq 0 ] || { echo "expected no changes, terraform plan exited $status"; exit 1; }

echo
echo "==> terraform destroy"
status=0
"$tf" -chdir="$work" destroy -auto-approve -input=false -no-color > "$work/destroy.out" 2>&1 || status=$?
grep -E 'Destroy complete|Error' "$work/destroy.out" || true
[ "$status" -eq 0 ] || { quiet < "$work/destroy.out"; exit "$status"; }
echo "Demo finished; the simulator stops now."
