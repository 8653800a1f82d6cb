#!/usr/bin/env bash
# splq: a short tour, for real, on a scratch SPLQ_HOME and SPLQ_RUN under
# /tmp that are removed at the end (also on failure or Ctrl-C).  Prints
# each command before running it.  Exits non-zero when a step fails.
# Run as root: `make demo`.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/cli/helpers.bash
. tests/cli/helpers.bash # SPLQ from BUILD, and the clean-up functions

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (splq runs only as root)" >&2
	exit 1
fi
if [ ! -x "$SPLQ" ]; then
	echo "demo: $SPLQ is missing; run make first" >&2
	exit 1
fi


SPLQ_HOME=$(mktemp -d /tmp/splq-demo-home.XXXXXX)
SPLQ_RUN=$(mktemp -d /tmp/splq-demo-run.XXXXXX)
SPLQ_CGROUP=splq-demo-$$
export SPLQ_HOME SPLQ_RUN SPLQ_CGROUP

BG_PIDS=()
cleanup() {
	splq_scratch_cleanup "$SPLQ_HOME" "$SPLQ_RUN" "$SPLQ_CGROUP"
	kill_bg_pids || true
	rm -rf "${WWW:-}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Print a command the way one would type it.
show() {
	local line="\$" a q="'"
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./=:@%+,-]+$ ]]; then
			line+=" $a"
		else
			line+=" '${a//$q/$q\\$q$q}'"
		fi
	done
	printf '%s' "$line"
}

fail_step() {
	echo "demo: that step failed (exit status $1)" >&2
	exit "$1"
}

# step CMD...: show it, run it.
step() {
	show "$@"
	echo
	"$@" || fail_step "$?"
	echo
}

# step_in FILE CMD...: the same, with FILE on the command's stdin.
step_in() {
	local file=$1
	shift
	show "$@"
	echo " < $file"
	"$@" <"$file" || fail_step "$?"
	echo
}

echo "# splq tour (scratch SPLQ_HOME=$SPLQ_HOME)"
echo

echo "# A TemplateVM from the host: its /usr read-only, an /etc of its own."
step splq template create spl-dev-template --base host

echo "# An AppVM based on it, with 1 GiB of memory and a blue label."
step splq create spl-dev-core --template spl-dev-template --memory 1024 --label blue

echo "# Run a command in it (it starts on demand); the hostname is the qube's name."
# shellcheck disable=SC2016  # expanded in the qube
step splq run spl-dev-core -- sh -c 'echo hello from $(hostname); id'

echo "# A disposable: made for one command, gone afterwards."
# shellcheck disable=SC2016  # expanded in the qube
step splq dispvm --template spl-dev-template -- sh -c 'echo in $(hostname); ls /'

echo "# A disposable template (dvm): its disposables start from a snapshot of its"
echo "# private volume as it last stopped; what they write never reaches it."
step splq create spl-dvm --template spl-dev-template --prop template_for_dispvms=True
step splq run spl-dvm -- sh -c 'echo "a setting every disposable starts with" > /home/user/settings'
step splq shutdown --wait spl-dvm
# shellcheck disable=SC2016  # expanded in the qube
step splq dispvm --template spl-dvm -- sh -c 'cat /home/user/settings; echo changed > /home/user/settings'
step splq run spl-dvm -- cat /home/user/settings
step splq shutdown --wait spl-dvm

echo "# Preloaded disposables, as in Qubes 4.3: preload-dispvm-max of them started ahead"
echo "# of time and frozen; a dispvm thaws one, and a replacement starts in the background."
step splq features spl-dvm preload-dispvm-max 2
step splq preload spl-dvm
echo "# They are internal: 'ls' shows them only with --all."
step splq ls --all
# median wall time of N runs of a command, in ms; before each, untimed, PREP
median_ms() {
	local n=$1 prep=$2 i t0 t1
	shift 2
	local -a times=()
	for ((i = 0; i < n; i++)); do
		$prep >/dev/null
		t0=$(date +%s%N)
		"$@" >/dev/null || fail_step "$?"
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}
cold=$(median_ms 9 true splq dispvm --template spl-dev-template -- /bin/true)
warm=$(median_ms 9 "splq preload spl-dvm" splq dispvm --template spl-dvm -- /bin/true)
echo "# splq dispvm -- /bin/true, median of 9: cold $cold ms, preloaded $warm ms"
echo "# (Qubes OS: 7-11 s cold, 2-3 s preloaded)"
echo

echo "# A command left running in the background: its output goes to the qube's log,"
echo "# which the host keeps (bounded: 1 MiB, and the MiB before)."
# shellcheck disable=SC2016  # expanded in the qube
step splq run --no-wait spl-dev-core -- sh -c 'echo working in $(hostname); echo oops >&2'
for _ in $(seq 100); do
	splq logs spl-dev-core | grep -q "exited with code" && break
	sleep 0.05
done
step splq logs spl-dev-core

echo "# Inside a running qube, as podman's ps and stats show a container, read on the"
echo "# host; and frozen and thawed (the cgroup freezer), as qvm-pause and qvm-check do."
step splq ps spl-dev-core
step splq stats --no-stream spl-dev-core
step splq pause spl-dev-core
step splq check --running --paused spl-dev-core
step splq ls --raw-data -O name,state,flags,memory,vcpus spl-dev-core
step splq unpause spl-dev-core

echo "# Into the qube's private volume (/home, kept across restarts) and back."
step_in README.md splq run spl-dev-core -- sh -c 'cat > /home/user/notes.txt'
show splq run spl-dev-core -- sha256sum /home/user/notes.txt
echo
inside=$(splq run spl-dev-core -- sha256sum /home/user/notes.txt) || fail_step "$?"
printf '%s\n\n' "$inside"
show sha256sum README.md
echo
outside=$(sha256sum README.md)
printf '%s\n' "$outside"
inside=${inside%% *}
outside=${outside%% *}
if [ "$inside" != "$outside" ]; then
	echo "demo: the copy in the qube differs from README.md" >&2
	exit 1
fi
echo "# same SHA-256 on both sides"
echo

echo "# Every writable volume has a size, as in Qubes; df inside shows the qube's own."
step splq volume list spl-dev-core
step splq run spl-dev-core -- df -h / /home /tmp
echo "# Volumes grow (shrinking is refused, exit code 79)."
step splq volume resize spl-dev-core:private 3G
step splq volume info spl-dev-core:private

echo "# The qube never gets a descriptor of the host's: splq relays its bytes."
echo "# Escape sequences bound for a terminal become '_' (as qvm-run filters them)."
# shellcheck disable=SC2016  # expanded in the qube
step splq run --filter-escape-chars spl-dev-core -- sh -c 'printf "\033]0;a new title\007\033[2J"; echo; readlink /proc/self/fd/0 /proc/self/fd/1'
echo "# --json captures the output, bounded by --max-output (exit code 77 past it)."
show splq --json run --max-output 1K spl-dev-core -- head -c 5000 /dev/zero
echo
splq --json run --max-output 1K spl-dev-core -- head -c 5000 /dev/zero && fail_step 0
printf '\n\n'
echo "# 'splq run -t spl-dev-core' gives a login shell on a terminal of the qube's own."
echo

echo "# dom0's default_template: create needs no --template then."
step splq prefs dom0 default_template spl-dev-template
echo "# memory is what a qube is given (its soft limit), maxmem what it may grow to (hard)."
step splq create spl-tools --memory 256 --maxmem 512 --prop autostart=True
echo "# maxmem below memory is refused (exit code 69), as are more CPUs than the host has."
show splq prefs spl-tools maxmem 128
echo
splq prefs spl-tools maxmem 128 && fail_step 0
echo
echo "# Qubes with autostart=True start with 'splq start --autostart' (the boot unit runs it)."
step splq start --autostart

echo "# Every qube, dom0 first; then the running ones in qvm-ls's simple format."
step splq ls
step splq ls --running -o simple
step splq shutdown --timeout 5 --wait spl-tools
step splq remove spl-tools

echo "# The qube's properties (D = default, - = set)."
step splq prefs spl-dev-core

echo "# Services between qubes (qrexec): a qube calls a named service in another, and"
echo "# the policy (\$SPLQ_HOME/policy.d/, Qubes' format) decides every call."
step splq create spl-vault --label black
# shellcheck disable=SC2016  # expanded in the qube, by the service
step splq run --user root spl-vault -- sh -c 'mkdir -p /etc/qubes-rpc && printf "#!/bin/sh\necho \"\$QREXEC_REMOTE_DOMAIN asked for \$1: \$(tr a-z A-Z)\"\n" > /etc/qubes-rpc/demo.Upper && chmod 755 /etc/qubes-rpc/demo.Upper'
step splq policy
echo "demo.Upper * spl-dev-core spl-vault allow" >"$SPLQ_HOME/policy.d/30-demo.policy"
step cat "$SPLQ_HOME/policy.d/30-demo.policy"
echo "# Allowed: qrexec-client-vm, on every qube's PATH, reaches spl-vault's service."
echo "\$ echo secret words | splq run spl-dev-core -- qrexec-client-vm spl-vault demo.Upper+notes"
echo secret words | splq run spl-dev-core -- qrexec-client-vm spl-vault demo.Upper+notes ||
	fail_step "$?"
echo "# Denied: no rule lets spl-vault call spl-dev-core (exit code 126, as in Qubes)."
echo "\$ splq run spl-vault -- qrexec-client-vm spl-dev-core demo.Upper"
splq run spl-vault -- qrexec-client-vm spl-dev-core demo.Upper </dev/null && fail_step 0
echo "# Both calls, and the rule that decided each, are in the audit log."
echo "\$ splq audit log --since 1m | grep ' call '"
splq audit log --since 1m | grep ' call ' || fail_step "$?"
step splq policy check demo.Upper+notes spl-vault spl-dev-core

echo "# Files between qubes: Qubes' qubes.Filecopy, under the same policy.  With --verify"
echo "# every file's SHA-256 is computed as it is sent and again by the receiver from what"
echo "# it wrote; the copy stays only if all agree.  Files land in ~/QubesIncoming/SOURCE/."
echo "qubes.Filecopy * spl-dev-core spl-vault allow" >>"$SPLQ_HOME/policy.d/30-demo.policy"
step splq run spl-dev-core -- sh -c 'mkdir -p report && echo "Q3 numbers" >report/summary.txt && seq 1 50000 >report/data.csv && echo draft >draft.txt'
step splq copy --from spl-dev-core --to spl-vault --verify report
step splq run spl-vault -- sh -c 'cd QubesIncoming/spl-dev-core && sha256sum report/*'
echo "# The same name again is refused, never overwritten (exit code 67)."
show splq copy --from spl-dev-core --to spl-vault report
echo
splq copy --from spl-dev-core --to spl-vault report && fail_step 0
echo
echo "# A move is a verified copy, then the source is removed (--secure: its data"
echo "# overwritten first); inside a qube, qvm-copy-to-vm and qvm-move-to-vm do the same."
step splq move --from spl-dev-core --to spl-vault --secure draft.txt
step splq run spl-dev-core -- ls
step splq run spl-dev-core -- sh -c 'echo note >note.txt && qvm-copy-to-vm spl-vault note.txt'
step splq run spl-vault -- ls QubesIncoming/spl-dev-core

echo "# spl-vault becomes a vault: a master key made inside it, sealed by a passphrase"
echo "# (asked on the terminal; here from SPLQ_VAULT_PASSPHRASE, the automation way)."
export SPLQ_VAULT_PASSPHRASE='a demo passphrase, for automation only'
step splq vault init spl-vault --scrypt-cost 14
printf 'db-password-%s' "$RANDOM$RANDOM" >"$SPLQ_HOME/secret.txt"
step splq vault store --qube spl-vault db-password --from-file "$SPLQ_HOME/secret.txt"
rm "$SPLQ_HOME/secret.txt"
step splq vault list --qube spl-vault
step splq vault retrieve --qube spl-vault db-password
echo
echo "# On disk, only AES-256-GCM records bound to their names and versions:"
step splq run --user root spl-vault -- ls -R /home/.splq-vault
echo "# spl-dev-core asks the vault for it: the default policy says ask, and with no"
echo "# one to answer, the call is refused (126); the audit log has who asked for what."
show splq run spl-dev-core -- qrexec-client-vm spl-vault splq.VaultGet+db-password
echo
splq run spl-dev-core -- qrexec-client-vm spl-vault splq.VaultGet+db-password </dev/null &&
	fail_step 0
splq audit log --since 1m | grep 'splq.VaultGet' || fail_step "$?"
echo
echo "# A signing key that never leaves the vault; only a file's hash goes in."
step splq vault keygen --qube spl-vault release
splq vault pubkey --qube spl-vault release >"$SPLQ_HOME/release.pub" || fail_step "$?"
cp README.md "$SPLQ_HOME/splq-0.1.0.tar"
step splq sign --vault spl-vault --key release -t 'splq 0.1.0 release' "$SPLQ_HOME/splq-0.1.0.tar"
echo "# minisign itself checks it:"
step minisign -V -p "$SPLQ_HOME/release.pub" -m "$SPLQ_HOME/splq-0.1.0.tar"
echo "# The audit chain's head, signed in the vault: rewriting history before it shows."
step splq audit seal --vault spl-vault --key release
step splq vault lock spl-vault
show splq vault retrieve --qube spl-vault db-password
echo
splq vault retrieve --qube spl-vault db-password && fail_step 0
echo

if ip route show default | grep -q . && command -v pasta >/dev/null; then
	echo "# Network qubes.  sys-net gets its uplink from pasta (user-mode networking that"
	echo "# changes nothing on the host; its gateway address leads to the host's loopback,"
	echo "# where two test servers listen).  spl-web goes through it with full network,"
	echo "# spl-dev-core limited by firewall rules that sys-net enforces, spl-vault has none."
	WWW=$(mktemp -d /tmp/splq-demo-www.XXXXXX)
	echo "hello from a server on the host's loopback" >"$WWW/index.html"
	ports=()
	for i in 1 2; do
		ports+=("$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')")
		python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "${ports[-1]}" >/dev/null 2>&1 &
		BG_PIDS+=($!)
	done
	step splq create sys-net --prop provides_network=True --prop uplink=pasta
	step splq create spl-web --prop netvm=sys-net --label red
	step splq start spl-web
	gw=$(splq run sys-net -- ip -4 route show default | awk '{ print $3 }')
	get='import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode().strip())'
	step splq run spl-web -- python3 -c "$get" "http://$gw:${ports[0]}/"
	step splq run spl-web -- python3 -c "$get" "http://$gw:${ports[1]}/"
	echo "# spl-dev-core joins sys-net while it runs; its rules allow one server only."
	step splq prefs spl-dev-core netvm sys-net
	printf '%s\n' "action=accept dst4=$gw proto=tcp dstports=${ports[0]}" \
		"action=accept specialtarget=dns" >"$SPLQ_HOME/demo-rules"
	step splq firewall spl-dev-core set "$SPLQ_HOME/demo-rules"
	step splq firewall spl-dev-core list
	step splq run spl-dev-core -- python3 -c "$get" "http://$gw:${ports[0]}/"
	echo "# The other port is dropped in sys-net (exit code 1 here)."
	show splq run spl-dev-core -- python3 -c "$get" "http://$gw:${ports[1]}/"
	echo
	splq run spl-dev-core -- python3 -c "$get" "http://$gw:${ports[1]}/" 2>&1 | tail -1 &&
		fail_step 0
	echo
	echo "# spl-vault has no netvm: its loopback only."
	step splq run spl-vault -- ls /sys/class/net
	step splq ls
	step splq shutdown --wait spl-web
	step splq prefs spl-dev-core netvm ''
	step splq shutdown --wait sys-net
	step splq remove spl-web sys-net
else
	echo "# (network qubes left out: this machine has no default route for pasta to copy)"
	echo
fi

step splq shutdown --wait spl-dev-core spl-vault
step splq remove spl-dev-core spl-vault
step splq ls

echo "# Every step above, in the hash-chained audit log."
step splq audit log
step splq audit verify --pubkey "$SPLQ_HOME/release.pub"

echo "# tour done; removing the scratch SPLQ_HOME and SPLQ_RUN"
