#!/usr/bin/env bash
# splq: what a command costs as qubes add up.  Makes 1,000 AppVMs (and two
# dvms), measures splq run, a cold and a preloaded splq dispvm and splq ls
# with one qube running, starts the other 999, measures the same again,
# prints the ratios and the host memory an idle qube costs, and removes
# everything.  Targets: each command at most 1.2x its cost with one qube
# running, ls of 1,000 qubes under 10 ms, at most 1 MiB per idle qube.
# Exits 1 when one is missed.  Run as root: `make bench-scale`.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/cli/helpers.bash
. tests/cli/helpers.bash # SPLQ from BUILD, and the clean-up functions

N=${BENCH_SCALE_QUBES:-1000}
WARMUP=${BENCH_WARMUP:-5}
RUNS=${BENCH_RUNS:-40}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-scale: run as root (splq runs only as root)" >&2
	exit 1
fi
if [ ! -x "$SPLQ" ]; then
	echo "bench-scale: $SPLQ is missing; run make first" >&2
	exit 1
fi
for tool in hyperfine python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench-scale: $tool is missing (make deps installs it)" >&2
		exit 1
	fi
done

SCRATCH=$(mktemp -d /tmp/splq-scale.XXXXXX)
SPLQ_HOME=$(mktemp -d /tmp/splq-scale-home.XXXXXX)
SPLQ_RUN=$(mktemp -d /tmp/splq-scale-run.XXXXXX)
SPLQ_CGROUP=splq-scale-$$
export SPLQ_HOME SPLQ_RUN SPLQ_CGROUP
mount -t tmpfs -o mode=0700,size=1g splq-scale-run "$SPLQ_RUN"
cleanup() {
	"$SPLQ" features --unset scale-dvm preload-dispvm-max >/dev/null 2>&1 || true
	splq_scratch_cleanup "$SPLQ_HOME" "$SPLQ_RUN" "$SPLQ_CGROUP"
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "== setting up: template scale-t, $N AppVMs q0 ... q$((N - 1)), dvms scale-dvm (1 preloaded) and scale-cold"
splq template create scale-t --base host >/dev/null
t0=$(date +%s)
for ((i = 0; i < N; i++)); do
	splq create "q$i" --template scale-t >/dev/null
done
echo "   $N qubes made in $(($(date +%s) - t0)) s"
splq create scale-dvm --template scale-t --prop template_for_dispvms=True >/dev/null
splq create scale-cold --template scale-t --prop template_for_dispvms=True >/dev/null
splq features scale-dvm preload-dispvm-max 1
splq preload scale-dvm >/dev/null
splq start q0

PRELOAD=$(cmdline "$SPLQ" preload scale-dvm)
measure() {
	hyperfine --warmup "$WARMUP" --runs "$RUNS" -N --style basic --export-json "$SCRATCH/$1.json" \
		--prepare "$PRELOAD" --prepare "$PRELOAD" --prepare "$PRELOAD" --prepare "$PRELOAD" \
		-n "splq run" "$(cmdline "$SPLQ" run q0 -- /bin/true)" \
		-n "splq dispvm (cold)" "$(cmdline "$SPLQ" dispvm --template scale-cold -- /bin/true)" \
		-n "splq dispvm (preloaded)" "$(cmdline "$SPLQ" dispvm --template scale-dvm -- /bin/true)" \
		-n "splq ls" "$(cmdline "$SPLQ" ls)"
}

echo
echo "== 1. one qube running"
measure one

echo
echo "== starting the other $((N - 1)) qubes"
t0=$(date +%s)
for ((i = 1; i < N; i++)); do
	echo "q$i"
done | xargs -P 2 -n 50 "$SPLQ" start
echo "   started in $(($(date +%s) - t0)) s; running: $("$SPLQ" ls | awk '$3 == "Running"' | wc -l) (dom0 and the pool's one included)"

echo
echo "== 2. $N qubes running"
measure all

echo
echo "== host memory of the $N idle qubes (Pss of every process in their cgroups and their supervisors')"
sleep 2
mapfile -t dirs < <(splq_cgroup_dirs "$SPLQ_CGROUP")
pss=0
count=0
declare -A seen=()
while IFS= read -r p; do
	[ -z "${seen[$p]:-}" ] || continue
	seen[$p]=1
	kib=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
	pss=$((pss + ${kib:-0}))
	count=$((count + 1))
done < <(for d in "${dirs[@]}"; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done)
echo "   $count processes, $pss KiB Pss"
running=$("$SPLQ" ls --all | awk '$3 == "Running" && $2 != "AdminVM"' | wc -l)
echo "$pss $running" >"$SCRATCH/memory"

python3 - "$SCRATCH" "$N" <<'EOF'
import json, os, sys

d, n = sys.argv[1], int(sys.argv[2])

def medians(name):
    with open(os.path.join(d, name + ".json")) as f:
        return {r["command"]: r["median"] * 1000 for r in json.load(f)["results"]}

one, all_ = medians("one"), medians("all")
failed = False
print()
print("%-40s %12s %12s %8s %9s" % ("", "1 running", "%d running" % n, "ratio", "target"))
for cmd in ["splq run", "splq dispvm (cold)", "splq dispvm (preloaded)", "splq ls"]:
    ratio = all_[cmd] / one[cmd]
    if cmd == "splq ls":
        ok = all_[cmd] < 10.0
        target = "< 10 ms"
    else:
        ok = ratio <= 1.2
        target = "<= 1.2x"
    failed = failed or not ok
    print("%-40s %9.2f ms %9.2f ms %7.2fx %9s  %s" % (cmd, one[cmd], all_[cmd], ratio, target,
                                                    "PASS" if ok else "FAIL"))
with open(os.path.join(d, "memory")) as f:
    pss, running = (int(x) for x in f.read().split())
per = pss / max(running, 1)
ok = per <= 1024
failed = failed or not ok
print("%-40s %12s %9.0f KiB %8s %9s  %s" % ("memory per idle qube (%d running)" % running, "",
                                            per, "", "<= 1 MiB", "PASS" if ok else "FAIL"))
sys.exit(1 if failed else 0)
EOF
