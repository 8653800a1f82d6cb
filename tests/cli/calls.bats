#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016  # run sets status etc.; $VARS: expanded in the qube
# splq: qrexec calls between qubes, as a qube makes them (qrexec-client-vm
# on its PATH) and as the host does (splq call): the policy decides each
# one, the service runs in the target with Qubes' environment, the
# streams and the exit code are joined end to end, and a refused call
# starts nothing.  Attacks from inside a qube: a forged request, another
# qube's socket, a caller that goes away mid-call.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	splq policy >/dev/null
	make_host_template t
}

teardown() {
	kill_bg_pids
	teardown_splq
}

# add_service QUBE NAME SCRIPT: an executable /etc/qubes-rpc/NAME in the
# running QUBE (its overlay: gone at its next start).
add_service() {
	in_root "$1" sh -c 'mkdir -p /etc/qubes-rpc && cat > "/etc/qubes-rpc/$1" && chmod 755 "/etc/qubes-rpc/$1"' \
		_ "$2" <<<"$3"
}

ECHO='#!/bin/sh
echo "from=$QREXEC_REMOTE_DOMAIN full=$QREXEC_SERVICE_FULL_NAME arg=$QREXEC_SERVICE_ARGUMENT argv1=${1-none} user=$(id -un) host=$(hostname)"
cat
echo "to stderr" >&2
exit 3'

@test "call: qrexec-client-vm in a qube reaches a service of another: environment, streams, exit code" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	add_service b test.Echo "$ECHO"
	policy 'test.Echo * a b allow'
	run --separate-stderr bash -c 'echo hello | "$SPLQ" run a -- qrexec-client-vm b test.Echo+xyz'
	assert_status 3
	[ "${lines[0]}" = "from=a full=test.Echo+xyz arg=xyz argv1=xyz user=user host=b" ]
	[ "${lines[1]}" = hello ]
	[ "$stderr" = "to stderr" ]
	# without an argument: Qubes' '+', no argv[1]
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Echo </dev/null
	assert_status 3
	[ "${lines[0]}" = "from=a full=test.Echo+ arg= argv1=none user=user host=b" ]
	# the audit log has the call, its decision and the rule that made it
	run "$SPLQ" audit log --qube a
	[[ $output == *"call a \"allow target=b ($SPLQ_HOME/policy.d/30-test.policy:1)\" a -> b test.Echo+xyz"* ]]
}

@test "call: SERVICE+ARG wins over SERVICE; a service runs as the policy's user=" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	add_service b test.Pick '#!/bin/sh
echo generic "$1"'
	add_service b test.Pick+special '#!/bin/sh
echo specific "${1-}"; id -un'
	policy 'test.Pick +special a b allow user=root' 'test.Pick * a b allow'
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Pick+special </dev/null
	assert_status 0
	[ "${lines[0]}" = "specific special" ]
	[ "${lines[1]}" = root ]
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Pick+other </dev/null
	assert_status 0
	[ "$output" = "generic other" ]
}

@test "call: denied by the policy: 126, 'Request refused', the target is not started, audit has the deny" {
	make_qube a
	make_qube b
	splq start a
	policy 'test.Echo * a b deny'
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Echo </dev/null
	assert_status 126
	[[ $stderr == *"Request refused"* ]]
	# the qube learns nothing of the policy: not its files, not the rule
	[[ $stderr != *"$SPLQ_HOME"* && $stderr != *policy* && $stderr != *deny* ]]
	run "$SPLQ" ls
	[[ $output =~ b\ +AppVM\ +Halted ]]
	run "$SPLQ" audit log --qube a
	[[ $output == *"call a \"deny ($SPLQ_HOME/policy.d/30-test.policy:1: "*"\" a -> b test.Echo"* ]]
	# no rule at all: splq's default denies
	policy
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Echo </dev/null
	assert_status 126
}

@test "call: a halted target is started for an allowed call, unless autostart=no" {
	make_qube a
	make_qube b
	splq start a
	policy 'test.Up * a b allow autostart=no' 'test.Hello * a b allow'
	# b's template has the service
	in_root t sh -c 'mkdir -p /etc/qubes-rpc && printf "#!/bin/sh\necho up\n" > /etc/qubes-rpc/test.Hello && chmod 755 /etc/qubes-rpc/test.Hello'
	splq shutdown --wait t
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Up </dev/null
	assert_status 126
	run "$SPLQ" ls
	[[ $output =~ b\ +AppVM\ +Halted ]]
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Hello </dev/null
	assert_status 0
	[ "$output" = up ]
	run "$SPLQ" ls
	[[ $output =~ b\ +AppVM\ +Running ]]
}

@test "call: @dispvm:DVM and @dispvm make a disposable for the call and remove it" {
	make_qube a
	splq prefs a default_dispvm t
	splq start a
	policy 'test.Where * a @dispvm allow' 'test.Where * a @dispvm:t allow'
	# the template has the service: every disposable of it does
	in_root t sh -c 'mkdir -p /etc/qubes-rpc && printf "#!/bin/sh\nhostname\n" > /etc/qubes-rpc/test.Where && chmod 755 /etc/qubes-rpc/test.Where'
	splq shutdown --wait t
	local target out
	for target in @dispvm:t '$dispvm:t' @dispvm; do
		run --separate-stderr "$SPLQ" run a -- qrexec-client-vm "$target" test.Where </dev/null
		assert_status 0
		[[ $output =~ ^disp[0-9]+$ ]]
		out=$output
		run "$SPLQ" ls
		[[ $output != *"$out"* ]]
	done
	assert_leftovers_none a t
}

@test "call: the host calls with splq call; a refusal is 81; --json says where it went" {
	make_qube b
	splq start b
	add_service b test.Echo "$ECHO"
	policy 'test.Echo * dom0 b allow' 'test.Echo * a b allow'
	run --separate-stderr bash -c 'echo in | "$SPLQ" call b test.Echo+h'
	assert_status 3
	[ "${lines[0]}" = "from=dom0 full=test.Echo+h arg=h argv1=h user=user host=b" ]
	[ "${lines[1]}" = in ]
	run --separate-stderr "$SPLQ" --json call b test.Echo </dev/null
	assert_status 3
	[ "${lines[0]}" = "from=dom0 full=test.Echo+ arg= argv1=none user=user host=b" ]
	output=${lines[-1]}
	[ "$(json_get exitCode)" = 3 ]
	[ "$(json_get target)" = b ]
	[ "$(json_get rule)" = "$SPLQ_HOME/policy.d/30-test.policy:1" ]
	# as another qube, policy-checked as it
	make_qube a
	run --separate-stderr "$SPLQ" call --from a b test.Echo </dev/null
	assert_status 3
	[[ $output == "from=a "* ]]
	run --separate-stderr "$SPLQ" call b test.Nothing </dev/null
	assert_status 81
	[[ $stderr == *"refused"* ]]
	run --separate-stderr "$SPLQ" call --from nosuch b test.Echo </dev/null
	assert_status 66
	run --separate-stderr "$SPLQ" call b
	assert_status 64
}

@test "call: an ask is answered by dom0's qrexec_ask_program; with none, a call from a qube is denied" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	add_service b test.Echo "$ECHO"
	policy 'test.Echo * a @anyvm ask default_target=b'
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Echo </dev/null
	assert_status 126
	local prog=$BATS_TEST_TMPDIR/ask
	printf '#!/bin/sh\necho "$1 $2 $3" > %q\ncat >> %q\necho b\n' "$prog.args" "$prog.args" >"$prog"
	chmod 755 "$prog"
	splq prefs dom0 qrexec_ask_program "$prog"
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Echo+q </dev/null
	assert_status 3
	[[ $output == "from=a "* ]]
	[ "$(head -n1 "$prog.args")" = "a test.Echo+q b" ]
	grep -qx b "$prog.args"
	# a program that says no
	printf '#!/bin/sh\nexit 1\n' >"$prog"
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b test.Echo </dev/null
	assert_status 126
}

@test "call from inside: a qube sees only its own socket and cannot forge its request" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	add_service b test.Echo "$ECHO"
	policy 'test.Echo * b b allow' 'test.Echo * a b deny'
	# every socket a qube's root finds is its own qrexec socket
	run in_root a sh -c 'find / -xdev -type s 2>/dev/null; find /run -type s'
	[ "$(sort -u <<<"$output")" = /run/splq/qrexec ]
	# a hand-made request naming another source: there is no such field;
	# bytes after the names, descriptors, junk: refused (125) or ignored
	run in_root a python3 -c '
import array, os, socket, struct
def call(payload, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("/run/splq/qrexec")
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    s.sendmsg([payload], anc)
    r = s.recv(512)
    return struct.unpack("<ii", r[:8]) if r else None
hdr = struct.pack("<IIII", 0x73717831, 0, 0, 0)
print(call(hdr + b"b\0test.Echo\0"))
print(call(hdr + b"b\0test.Echo\0source=b\0"))
print(call(hdr + b"b\0test.Echo\0", [0, 1]))
print(call(struct.pack("<IIII", 0x73717831, 1, 0, 0) + b"b\0test.Echo\0"))
print(call(b"junk"))
print(call(hdr + b"b\0" + b"x" * 300 + b"\0"))
'
	assert_status 0
	[ "${lines[0]}" = "(2, 126)" ]
	[ "${lines[1]}" = "(3, 125)" ]
	[ "${lines[2]}" = "(2, 126)" ]
	[ "${lines[3]}" = "(3, 125)" ]
	[ "${lines[4]}" = "(3, 125)" ]
	[ "${lines[5]}" = "(3, 125)" ]
}

@test "call: a caller killed mid-call hangs the service up; a disposable target is removed" {
	make_qube a
	splq start a
	policy 'test.Sleep * a @dispvm:t allow'
	in_root t sh -c 'mkdir -p /etc/qubes-rpc && printf "#!/bin/sh\necho started\nexec sleep 600\n" > /etc/qubes-rpc/test.Sleep && chmod 755 /etc/qubes-rpc/test.Sleep'
	splq shutdown --wait t
	"$SPLQ" run a -- qrexec-client-vm @dispvm:t test.Sleep >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
	local caller=$! i name=
	BG_PIDS+=("$caller")
	for ((i = 0; i < 200; i++)); do
		name=$("$SPLQ" ls | awk '$1 ~ /^disp[0-9]+$/ && $3 == "Running" { print $1 }')
		[ -n "$name" ] && grep -q started "$BATS_TEST_TMPDIR/out" && break
		sleep 0.05
	done
	[ -n "$name" ]
	# the caller goes: its splq run, and with it (hung up) qrexec-client-vm
	kill -KILL "$caller"
	for ((i = 0; i < 200; i++)); do
		run "$SPLQ" ls
		[[ $output != *"$name"* ]] && break
		sleep 0.05
	done
	[[ $output != *"$name"* ]]
	assert_leftovers_none a t
}

@test "call: no such service is 127; dom0 serves qubes.GetDate itself; a malformed target or service is refused" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	policy 'nosuch.Service * a b allow' 'test.Host * a @adminvm allow' 'qubes.GetDate * a @adminvm allow'
	run -127 --separate-stderr "$SPLQ" run a -- qrexec-client-vm b nosuch.Service </dev/null
	run -127 --separate-stderr "$SPLQ" run a -- qrexec-client-vm dom0 test.Host </dev/null
	# the host's clock, as Qubes' dom0 gives it, within a minute of the host's own
	local before after
	before=$(date -u +%s)
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm dom0 qubes.GetDate </dev/null
	after=$(date -u +%s)
	assert_status 0
	[[ $output =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00$ ]]
	local t
	t=$(date -u -d "$output" +%s)
	((t >= before - 1 && t <= after + 1))
	# not allowed from b: refused, as any call
	run -126 --separate-stderr "$SPLQ" run b -- qrexec-client-vm dom0 qubes.GetDate </dev/null
	run --separate-stderr "$SPLQ" call dom0 qubes.GetDate
	assert_status 81
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b +arg </dev/null
	[ "$status" -ne 0 ]
	# characters outside Qubes' set become '_' before the policy sees them
	run --separate-stderr "$SPLQ" run a -- qrexec-client-vm b 'nosuch/Service' </dev/null
	assert_status 126
	run "$SPLQ" audit log --qube a
	[[ $output == *"call a \"deny ("*"\" a -> b nosuch_Service"* ]]
}

# The pids of the qube's supervisor cgroup that run `splq qrexec-in --warm`.
warm_pids() {
	local p dirs
	mapfile -t dirs < <(supervisor_cgroup_dirs "$1")
	for p in $(splq_cgroup_pids "${dirs[@]}"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "qrexec-in --warm $1 " && echo "$p"
	done
	return 0
}

@test "call: after a call the next one's splq waits warm, serves the next call, and goes with the qube" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	add_service b test.Echo "$ECHO"
	policy 'test.Echo * a b allow'
	[ -z "$(warm_pids a)" ]
	run "$SPLQ" run a -- qrexec-client-vm b test.Echo </dev/null
	assert_status 3
	local i w=
	for ((i = 0; i < 100; i++)); do
		w=$(warm_pids a)
		[ -n "$w" ] && break
		sleep 0.05
	done
	[ -n "$w" ]
	# it waits at SCHED_IDLE (policy 5, the stat's 41st field), on CPU time
	# no one else wants
	local stat
	stat=$(cat "/proc/$w/stat")
	read -ra f <<<"${stat##*) }"
	[ "${f[38]}" = 5 ]
	# the warm one takes the next call (it is gone after it), which works as any
	run --separate-stderr bash -c 'echo again | "$SPLQ" run a -- qrexec-client-vm b test.Echo+x'
	assert_status 3
	[ "${lines[1]}" = again ]
	for ((i = 0; i < 100; i++)); do
		[ ! -e "/proc/$w" ] && break
		sleep 0.05
	done
	[ ! -e "/proc/$w" ]
	# a refused call through a warm one: still 126
	for ((i = 0; i < 100; i++)); do
		[ -n "$(warm_pids a)" ] && break
		sleep 0.05
	done
	run -126 --separate-stderr "$SPLQ" run a -- qrexec-client-vm b other.Service </dev/null
	splq shutdown --wait a
	[ -z "$(warm_pids a)" ]
	assert_leftovers_none b t
}
