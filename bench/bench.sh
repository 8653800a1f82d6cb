#!/usr/bin/env bash
# splq: benchmarks, splq beside the tools people use instead, measured in
# the same hyperfine run:
#   1. a disposable (splq dispvm) against bwrap and unshare: cold, with a
#      network, from a dvm's pool of preloaded disposables, and from dvms
#      with an empty and a 1 GiB private volume
#   2. a command in a running qube (splq run) against bwrap
#   3. 16 MiB into a qube and hashed there against cp + sha256sum
#   4. a qrexec call of a trivial service between two running qubes
#      (qrexec-client-vm in a splq run) against that splq run of /bin/true
#   5. a verified copy of a 1 GiB tree of 1,000 files between two qubes
#      (splq copy --verify) against cp -a and sha256sum of the same tree
#   6. the host memory an idle qube costs (its supervisor and init)
#   7. qrexec policy decisions per second (splq policy eval, a 100-rule
#      policy; Qubes' own evaluator manages about 12,000/s on such a policy)
#   8. TCP throughput from a qube through its network qube to a server
#      (iperf3) against the same between two network namespaces over veth
#   9. a 1 MiB secret stored in a vault and retrieved from it, by another
#      qube through the policy (its two qrexec calls, timed inside that
#      qube), beside openssl enc and dec of the same bytes there
#  10. the vault's AES-256-GCM (a 1 MiB record sealed and opened) beside
#      openssl speed -evp aes-256-gcm on the same machine
# The network ones stay on this machine: the server and the network qube's
# uplink are network namespaces the benchmark makes (documentation
# addresses).
# Prints a table with each target and PASS/FAIL; exits 1 when a target is
# missed.  Run as root: `make bench`.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/cli/helpers.bash
. tests/cli/helpers.bash # SPLQ from BUILD, and the clean-up functions

WARMUP=${BENCH_WARMUP:-5}
RUNS=${BENCH_RUNS:-50}
POLICY_QUERIES=${BENCH_POLICY_QUERIES:-200000}
POLICY_RUNS=${BENCH_POLICY_RUNS:-10}
COPY_RUNS=${BENCH_COPY_RUNS:-5}
COPY_FILES=${BENCH_COPY_FILES:-1000} # of 1 MiB each

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (splq runs only as root)" >&2
	exit 1
fi
if [ ! -x "$SPLQ" ]; then
	echo "bench: $SPLQ is missing; run make first" >&2
	exit 1
fi
for tool in hyperfine bwrap unshare python3 iperf3 ip openssl; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench: $tool is missing (make deps installs it)" >&2
		exit 1
	fi
done


SCRATCH=$(mktemp -d /tmp/splq-bench.XXXXXX)
SPLQ_HOME=$(mktemp -d /tmp/splq-bench-home.XXXXXX)
SPLQ_RUN=$(mktemp -d /tmp/splq-bench-run.XXXXXX)
SPLQ_CGROUP=splq-bench-$$
export SPLQ_HOME SPLQ_RUN SPLQ_CGROUP
# Runtime state lives on a tmpfs, as /run (splq's default SPLQ_RUN) does on
# a standard Debian system; the store stays on disk.
mount -t tmpfs -o mode=0700,size=256m splq-bench-run "$SPLQ_RUN"

NET_UP=bench-up-$$ NET_IN=bench-in-$$ NET_A=bench-a-$$
BG_PIDS=()
cleanup() {
	"$SPLQ" features --unset bench-dvm preload-dispvm-max >/dev/null 2>&1 || true
	for q in bench-q bench-c bench-net bench-v; do
		"$SPLQ" kill "$q" >/dev/null 2>&1 || true
	done
	splq_scratch_cleanup "$SPLQ_HOME" "$SPLQ_RUN" "$SPLQ_CGROUP"
	kill_bg_pids || true
	for ns in "$NET_UP" "$NET_IN" "$NET_A"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "== setting up: template bench-t (with the service test.Echo), AppVMs bench-q and bench-r (running)"
splq template create bench-t --base host
# the trivial service: cat itself, so that a shell's start is not counted
splq run --user root bench-t -- sh -c 'mkdir -p /etc/qubes-rpc && ln -s /bin/cat /etc/qubes-rpc/test.Echo'
splq shutdown --wait bench-t
splq create bench-q --template bench-t
splq create bench-r --template bench-t
splq policy >/dev/null
printf '%s\n' 'test.Echo * bench-q bench-r allow' 'qubes.Filecopy * bench-q bench-r allow' \
	>"$SPLQ_HOME/policy.d/30-bench.policy"
splq start bench-q
splq start bench-r

echo "== setting up: dvms bench-dvm (2 preloaded disposables), bench-d0 (empty private volume), bench-d1g (1 GiB in it)"
for d in bench-dvm bench-d0 bench-d1g; do
	splq create "$d" --template bench-t --prop template_for_dispvms=True
done
splq run --user user bench-d1g -- sh -c 'head -c 1G /dev/urandom > ~/blob && sync'
splq shutdown --wait bench-d1g
splq features bench-dvm preload-dispvm-max 2
splq preload bench-dvm

echo "== setting up: a network qube bench-net in namespace $NET_UP, a server in $NET_IN (198.51.100.10), bench-c its client"
splq_test_internet "$NET_UP" "$NET_IN"
ip netns exec "$NET_IN" iperf3 -s -B 198.51.100.10 >/dev/null 2>&1 &
BG_PIDS+=($!)
splq create bench-net --template bench-t --prop provides_network=True --prop "uplink=netns:$NET_UP"
splq create bench-c --template bench-t --prop netvm=bench-net
splq start bench-c
head -c $((16 * 1024 * 1024)) /dev/urandom >"$SCRATCH/blob"

BWRAP=$(cmdline bwrap --unshare-all --die-with-parent --ro-bind /usr /usr \
	--symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin \
	--proc /proc --dev /dev /bin/true)
UNSHARE=$(cmdline unshare --user --map-root-user --mount --pid --fork --net --uts --ipc /bin/true)

hf() {
	hyperfine --warmup "$WARMUP" --runs "$RUNS" -N --style basic "$@"
}

echo
echo "== 1. a disposable: splq dispvm against bwrap and unshare"
# The preloaded line: before each run (untimed) the pool is made full
# again, as the background filler does between one disposable and the
# next; the other lines get the same untimed step, a no-op for them.
PRELOAD=$(cmdline "$SPLQ" preload bench-dvm)
hf --export-json "$SCRATCH/dispvm.json" \
	--prepare "$PRELOAD" --prepare "$PRELOAD" --prepare "$PRELOAD" --prepare "$PRELOAD" \
	--prepare "$PRELOAD" --prepare "$PRELOAD" --prepare "$PRELOAD" \
	-n "splq dispvm" "$(cmdline "$SPLQ" dispvm --template bench-t -- /bin/true)" \
	-n "splq dispvm (preloaded)" "$(cmdline "$SPLQ" dispvm --template bench-dvm -- /bin/true)" \
	-n "splq dispvm --netvm" "$(cmdline "$SPLQ" dispvm --template bench-t --netvm bench-net -- /bin/true)" \
	-n "dvm, empty private" "$(cmdline "$SPLQ" dispvm --template bench-d0 -- /bin/true)" \
	-n "dvm, 1 GiB private" "$(cmdline "$SPLQ" dispvm --template bench-d1g -- /bin/true)" \
	-n "bwrap" "$BWRAP" \
	-n "unshare" "$UNSHARE"

echo
echo "== 2. a command in a running qube: splq run against bwrap"
hf --export-json "$SCRATCH/run.json" \
	-n "splq run" "$(cmdline "$SPLQ" run bench-q -- /bin/true)" \
	-n "bwrap" "$BWRAP"

echo
echo "== 3. 16 MiB into a qube, hashed there: splq run sha256sum against cp + sha256sum"
hf --export-json "$SCRATCH/copy.json" \
	-n "splq run sha256sum" \
	"$(cmdline sh -c "$(printf '%q' "$SPLQ") run bench-q -- sha256sum < $SCRATCH/blob")" \
	-n "cp + sha256sum" \
	"$(cmdline sh -c "cp $SCRATCH/blob $SCRATCH/x && sha256sum $SCRATCH/x")"

echo
echo "== 4. a qrexec call between running qubes: qrexec-client-vm in bench-q to test.Echo in bench-r"
hf --export-json "$SCRATCH/call.json" \
	-n "qrexec call" "$(cmdline "$SPLQ" run bench-q -- qrexec-client-vm bench-r test.Echo)" \
	-n "splq run" "$(cmdline "$SPLQ" run bench-q -- /bin/true)"

echo
echo "== 5. a verified copy of $COPY_FILES files of 1 MiB between running qubes: splq copy --verify against cp -a + sha256sum"
# the tree: made on the host, sent into bench-q (dom0 may, by splq's
# default policy); the host keeps its own for cp
python3 - "$SCRATCH/tree" "$COPY_FILES" <<'EOF'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(top, "d%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d" % i), "wb") as f:
        f.write(os.urandom(1024 * 1024))
EOF
splq copy --from dom0 --to bench-q "$SCRATCH/tree" >/dev/null
hyperfine --warmup 1 --runs "$COPY_RUNS" -N --style basic --export-json "$SCRATCH/filecopy.json" \
	-n "splq copy --verify" \
	--prepare "$(cmdline "$SPLQ" run bench-r -- rm -rf QubesIncoming)" \
	"$(cmdline "$SPLQ" copy --from bench-q --to bench-r --verify QubesIncoming/dom0/tree)" \
	-n "cp -a + sha256sum" \
	--prepare "$(cmdline rm -rf "$SCRATCH/tree2")" \
	"$(cmdline sh -c "cp -a $SCRATCH/tree $SCRATCH/tree2 && find $SCRATCH/tree2 -type f -exec sha256sum {} + >/dev/null")"
rm -rf "$SCRATCH/tree" "$SCRATCH/tree2"

echo
echo "== 9. a 1 MiB secret into the vault bench-v and back, from bench-q through the policy"
echo "   (measured inside bench-q, as the qube makes the two calls, beside openssl enc and dec"
echo "   of the same bytes there)"
splq create bench-v --template bench-t
SPLQ_VAULT_PASSPHRASE=bench splq vault init bench-v --scrypt-cost 10 >/dev/null
printf '%s\n' 'splq.VaultStore +bench bench-q bench-v allow' 'splq.VaultGet +bench bench-q bench-v allow' \
	>>"$SPLQ_HOME/policy.d/30-bench.policy"
splq run bench-q -- sh -c 'head -c 1048576 /dev/urandom >secret.bin'
OSSL="openssl enc -aes-256-ctr -pbkdf2 -iter 1 -pass pass:bench"
splq run bench-q -- hyperfine --warmup "$WARMUP" --runs "$RUNS" -N --style basic \
	--export-json /tmp/vault.json \
	-n "vault store + retrieve" \
	"sh -c 'qrexec-client-vm bench-v splq.VaultStore+bench <secret.bin && qrexec-client-vm bench-v splq.VaultGet+bench >/dev/null'" \
	-n "openssl enc + dec" "sh -c '$OSSL -in secret.bin -out s.enc && $OSSL -d -in s.enc >/dev/null'"
splq run bench-q -- cat /tmp/vault.json >"$SCRATCH/vault.json"
splq run bench-q -- sh -c 'qrexec-client-vm bench-v splq.VaultGet+bench | cmp - secret.bin'
splq shutdown --wait bench-v

echo
echo "== 10. the vault's AES-256-GCM: a 1 MiB record sealed and opened, beside openssl speed"
"$BUILD/bench/vault_speed" 1048576 2 | tee "$SCRATCH/gcm"
openssl speed -evp aes-256-gcm -seconds 2 -bytes 1048576 2>/dev/null | tail -1 | tee "$SCRATCH/openssl"

# alone again: Pss shares the pages of splq-init among the qubes that run it
splq shutdown --wait bench-r

echo
echo "== 6. host memory of the idle qube bench-q (Pss of its supervisor and init)"
sleep 1
mapfile -t qdirs < <(qube_cgroup_dirs bench-q)
if [ "${#qdirs[@]}" -eq 0 ]; then
	echo "bench: no cgroup for bench-q under $SPLQ_CGROUP" >&2
	exit 1
fi
mapfile -t qpids < <(splq_cgroup_pids "${qdirs[@]}")
declare -A seen=()
mem_pids=()
for p in "${qpids[@]}"; do
	seen[$p]=1
	mem_pids+=("$p")
done
# The supervisor: a splq parent of the qube's processes, outside the cgroup.
for p in "${qpids[@]}"; do
	pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null || true)
	case $pp in '' | 0 | 1) continue ;; esac
	[ -z "${seen[$pp]:-}" ] || continue
	comm=$(cat "/proc/$pp/comm" 2>/dev/null || true)
	exe=$(readlink "/proc/$pp/exe" 2>/dev/null || true)
	case "$comm ${exe##*/}" in
	*splq*)
		seen[$pp]=1
		mem_pids+=("$pp")
		;;
	esac
done
pss_kib=0
printf '  %-8s %-16s %10s\n' PID COMMAND "PSS KiB"
for p in "${mem_pids[@]}"; do
	kib=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
	comm=$(cat "/proc/$p/comm" 2>/dev/null || true)
	printf '  %-8s %-16s %10s\n' "$p" "$comm" "${kib:-?}"
	pss_kib=$((pss_kib + ${kib:-0}))
done
echo "$pss_kib" >"$SCRATCH/memory_kib"
# a splq waiting warm for bench-q's next call (30 s after its last call)
# is not part of an idle qube, but say so when there is one
for p in $(pgrep -P "${mem_pids[-1]}" 2>/dev/null || true); do
	if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- 'qrexec-in --warm'; then
		printf '  (and %s, the warm splq of its next call: %s KiB Pss)\n' "$p" \
			"$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)"
	fi
done

echo
echo "== 7. policy decisions: splq policy eval, $POLICY_QUERIES calls on a 100-rule policy"
mkdir -p "$SCRATCH/policy/policy.d"
python3 - "$SCRATCH/policy" "$POLICY_QUERIES" <<'EOF'
# 11 qubes, 96 rules over 40 services, and 4 rules at the end that catch
# the rest: most calls walk most of the policy before they are decided.
import json, random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(1)
names = ["work", "vault", "personal", "untrusted", "sys-net", "sys-firewall", "dvm", "tmpl",
         "build", "mail"]
doms = {"dom0": {"type": "AdminVM", "tags": [], "default_dispvm": "dvm",
                 "template_for_dispvms": False, "power_state": "Running",
                 "uuid": "00000000-0000-0000-0000-000000000000"}}
for i, q in enumerate(names):
    doms[q] = {"type": "TemplateVM" if q == "tmpl" else "AppVM",
               "tags": r.sample(["dev", "net", "mail", "x"], 2), "default_dispvm": "dvm",
               "template_for_dispvms": q == "dvm", "power_state": r.choice(["Running", "Halted"]),
               "uuid": "%08d-0000-0000-0000-000000000000" % (i + 1)}
json.dump({"domains": doms}, open(d + "/si.json", "w"))
services = ["qubes.Service%d" % i for i in range(40)]
rules = []
for i in range(96):
    target = r.choice(names + ["@dispvm", "@default", "@tag:net"])
    action = r.choice(["allow", "deny", "ask", "allow target=vault", "ask default_target=work"])
    if target == "@default" and action == "allow":
        action = "allow target=work"
    rules.append(" ".join([services[i % 40], r.choice(["*", "+a", "+b"]),
                           r.choice(names + ["@tag:dev", "@type:AppVM"]), target, action]))
rules += ["qubes.Filecopy * @anyvm @anyvm ask", "qubes.OpenInVM * @anyvm @dispvm allow",
          "* * @anyvm @anyvm deny", "* * @anyvm @adminvm deny"]
open(d + "/policy.d/50-bench.policy", "w").write("\n".join(rules) + "\n")
with open(d + "/queries", "w") as f:
    for _ in range(n):
        f.write("%s+%s %s %s\n" % (r.choice(services + ["qubes.Filecopy", "qubes.OpenInVM"]),
                                   r.choice(["", "a", "b"]), r.choice(names),
                                   r.choice(names + ["@dispvm", "@default", "dom0"])))
EOF
echo "$POLICY_QUERIES" >"$SCRATCH/policy_queries"
hyperfine --warmup 2 --runs "$POLICY_RUNS" -N --style basic --export-json "$SCRATCH/policy.json" \
	-n "splq policy eval" \
	"$(cmdline sh -c "$(printf '%q' "$SPLQ") policy eval --policy-dir $SCRATCH/policy/policy.d --system-info $SCRATCH/policy/si.json < $SCRATCH/policy/queries > /dev/null")"

echo
echo "== 8. TCP through a network qube: iperf3 from bench-c via bench-net to $NET_IN, against two namespaces over veth"
# the plain path: a namespace with a veth into the server's
ip netns add "$NET_A"
ip link add a0 netns "$NET_A" type veth peer name a1 netns "$NET_IN"
ip -n "$NET_A" addr add 198.51.100.200/31 dev a0
ip -n "$NET_IN" addr add 198.51.100.201/31 dev a1
ip -n "$NET_A" link set a0 up
ip -n "$NET_IN" link set a1 up
ip -n "$NET_A" route add 198.51.100.10/32 via 198.51.100.201
IPERF_S=${BENCH_IPERF_SECONDS:-5}
for i in 1 2 3; do
	splq run bench-c -- iperf3 -c 198.51.100.10 -t "$IPERF_S" -J >"$SCRATCH/iperf-qube-$i.json"
	ip netns exec "$NET_A" iperf3 -c 198.51.100.10 -t "$IPERF_S" -J >"$SCRATCH/iperf-veth-$i.json"
done

python3 - "$SCRATCH" <<'EOF'
import json, os, sys

d = sys.argv[1]

def medians(name):
    with open(os.path.join(d, name + ".json")) as f:
        return {r["command"]: r["median"] * 1000 for r in json.load(f)["results"]}

rows = []  # (name, value text, ratio text, target text, result)
failed = False

def group(title, name, baseline, order, target_name=None, limit=None):
    global failed
    m = medians(name)
    base = m[baseline]
    rows.append((title, None, None, None, None))
    for cmd in order:
        ratio = m[cmd] / base
        target = result = ""
        if cmd == target_name:
            target = "<= %.1fx" % limit
            ok = ratio <= limit
            result = "PASS" if ok else "FAIL"
            failed = failed or not ok
        rows.append(("  " + cmd, "%.2f ms" % m[cmd], "%.2fx" % ratio, target, result))

group("disposable (ratio to bwrap)", "dispvm", "bwrap",
      ["splq dispvm", "bwrap", "unshare"], "splq dispvm", 1.5)
group("disposable from a pool of preloaded ones (ratio to bwrap)", "dispvm", "bwrap",
      ["splq dispvm (preloaded)", "splq dispvm", "bwrap"], "splq dispvm (preloaded)", 1.0)
group("disposable from a dvm with 1 GiB in its private volume (ratio to an empty one)",
      "dispvm", "dvm, empty private", ["dvm, 1 GiB private", "dvm, empty private"],
      "dvm, 1 GiB private", 1.2)
m = medians("dispvm")
rows.append(("Qubes OS: 2-3 s preloaded, 7-11 s cold (its ratio to splq)", None, None, None, None))
rows.append(("  preloaded, 2.5 s", "%.2f ms" % m["splq dispvm (preloaded)"],
             "%.0fx" % (2500 / m["splq dispvm (preloaded)"]), "", ""))
rows.append(("  cold, 9 s", "%.2f ms" % m["splq dispvm"], "%.0fx" % (9000 / m["splq dispvm"]),
             "", ""))
group("disposable with network (ratio to bwrap)", "dispvm", "bwrap",
      ["splq dispvm --netvm", "splq dispvm", "bwrap"], "splq dispvm --netvm", 3.0)
group("run in a running qube (ratio to bwrap)", "run", "bwrap",
      ["splq run", "bwrap"], "splq run", 1.0)
group("16 MiB in and hashed (ratio to cp + sha256sum)", "copy", "cp + sha256sum",
      ["splq run sha256sum", "cp + sha256sum"], "splq run sha256sum", 1.0)
group("qrexec call from a qube, in a splq run (ratio to splq run /bin/true)", "call",
      "splq run", ["qrexec call", "splq run"], "qrexec call", 2.0)
group("1 GiB, 1,000 files, copied and hashed (ratio to cp -a + sha256sum)", "filecopy",
      "cp -a + sha256sum", ["splq copy --verify", "cp -a + sha256sum"], "splq copy --verify",
      1.0)

with open(os.path.join(d, "memory_kib")) as f:
    kib = int(f.read())
mem_ok = kib <= 2048
failed = failed or not mem_ok
rows.append(("idle qube memory", None, None, None, None))
rows.append(("  supervisor + init (Pss)", "%d KiB, %.2f MiB" % (kib, kib / 1024), "",
             "<= 2 MiB", "PASS" if mem_ok else "FAIL"))

with open(os.path.join(d, "policy_queries")) as f:
    nq = int(f.read())
per_s = nq / (medians("policy")["splq policy eval"] / 1000)
pol_ok = per_s >= 200000
failed = failed or not pol_ok
rows.append(("policy decisions/s (100 rules; ratio to Qubes' 12,000/s)", None, None, None,
             None))
rows.append(("  splq policy eval", "%.0f/s" % per_s, "%.1fx" % (per_s / 12000), ">= 200000",
             "PASS" if pol_ok else "FAIL"))

m = medians("vault")
v_ms = m["vault store + retrieve"]
v_ok = v_ms <= 20
failed = failed or not v_ok
rows.append(("1 MiB secret stored + retrieved by another qube (ratio to openssl enc + dec)", None,
             None, None, None))
rows.append(("  vault store + retrieve", "%.2f ms" % v_ms,
             "%.2fx" % (v_ms / m["openssl enc + dec"]), "<= 20 ms", "PASS" if v_ok else "FAIL"))
rows.append(("  openssl enc + dec", "%.2f ms" % m["openssl enc + dec"], "1.00x", "", ""))

with open(os.path.join(d, "gcm")) as f:
    w = f.read().split()
seal, opened = float(w[1]) / 1e9, float(w[3]) / 1e9
with open(os.path.join(d, "openssl")) as f:
    ossl = float(f.read().split()[1].rstrip("k")) * 1000 / 1e9
g_ok = min(seal, opened) >= 1.0
failed = failed or not g_ok
rows.append(("AES-256-GCM, 1 MiB (ratio to openssl speed -evp aes-256-gcm)", None, None, None,
             None))
rows.append(("  vault record sealed", "%.2f GB/s" % seal, "%.2fx" % (seal / ossl), ">= 1 GB/s",
             "PASS" if seal >= 1.0 else "FAIL"))
rows.append(("  vault record opened", "%.2f GB/s" % opened, "%.2fx" % (opened / ossl),
             ">= 1 GB/s", "PASS" if opened >= 1.0 else "FAIL"))
rows.append(("  openssl speed", "%.2f GB/s" % ossl, "1.00x", "", ""))

def gbits(kind):
    v = []
    for i in (1, 2, 3):
        with open(os.path.join(d, "iperf-%s-%d.json" % (kind, i))) as f:
            v.append(json.load(f)["end"]["sum_received"]["bits_per_second"] / 1e9)
    return sorted(v)[1]

qube, veth = gbits("qube"), gbits("veth")
net_ok = qube >= veth / 2
failed = failed or not net_ok
rows.append(("TCP throughput, median of 3 (ratio to two namespaces over veth)", None, None,
             None, None))
rows.append(("  qube -> network qube -> server", "%.2f Gbit/s" % qube, "%.2fx" % (qube / veth),
             ">= 0.5x", "PASS" if net_ok else "FAIL"))
rows.append(("  namespace -> veth -> server", "%.2f Gbit/s" % veth, "1.00x", "", ""))

print("%-48s %18s %8s %9s  %s" % ("NAME", "MEDIAN", "RATIO", "TARGET", "RESULT"))
for name, value, ratio, target, result in rows:
    if value is None:
        print(name)
    else:
        print(("%-48s %18s %8s %9s  %s" % (name, value, ratio, target, result)).rstrip())
sys.exit(1 if failed else 0)
EOF
