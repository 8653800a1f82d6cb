# shellcheck shell=bash disable=SC2154  # status, output: set by bats' run
# splq: helpers for the command-line tests (bats).  Every test gets its own
# SPLQ_HOME, SPLQ_RUN and cgroup parent, and teardown removes whatever the
# test left behind, even after a failure.
#
#   load helpers
#   setup() { setup_splq; }
#   teardown() { teardown_splq; }
#
# The cleanup functions (splq_scratch_cleanup, splq_cgroup_dirs) are plain
# bash, so the demo and the benchmark use them too.

# The splq under test: $SPLQ, or the one in the build folder $BUILD
# (default build; relative to the repository).
if [ -z "${SPLQ:-}" ]; then
	case ${BUILD:=build} in
	/*) SPLQ=$BUILD/splq ;;
	*) SPLQ=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/$BUILD/splq ;;
	esac
fi
export SPLQ

# Run splq with the test's environment (SPLQ_HOME, SPLQ_RUN, SPLQ_CGROUP).
splq() {
	"$SPLQ" "$@"
}

# Skip unless root: splq refuses other users.
require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "needs root (splq runs only as root)"
	fi
}

setup_splq() {
	SPLQ_HOME=$(mktemp -d /tmp/splq-test-home.XXXXXX)
	SPLQ_RUN=$(mktemp -d /tmp/splq-test-run.XXXXXX)
	SPLQ_CGROUP="splq-test-$$-${BATS_SUITE_TEST_NUMBER:-${BATS_TEST_NUMBER:-0}}"
	export SPLQ_HOME SPLQ_RUN SPLQ_CGROUP
}

# Kill (SIGKILL) and reap every process a test started in the background
# and listed in BG_PIDS.
kill_bg_pids() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

teardown_splq() {
	splq_scratch_cleanup "${SPLQ_HOME:-}" "${SPLQ_RUN:-}" "${SPLQ_CGROUP:-}"
	return 0
}

# The directories of cgroup NAME (a path relative to a hierarchy's root or
# to this process's own cgroup in it) in every mounted cgroup hierarchy
# (v1 controllers, the v2 unified tree), one per line, existing ones only.
splq_cgroup_dirs() {
	local name=$1 mnt own d
	[ -n "$name" ] || return 0
	local -a mounts owns
	mapfile -t mounts < <(awk '{
		for (i = 7; i <= NF; i++)
			if ($i == "-") {
				if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2")
					print $5
				break
			}
	}' /proc/self/mountinfo | sort -u)
	mapfile -t owns < <(cut -d: -f3- /proc/self/cgroup | sort -u)
	for mnt in "${mounts[@]}"; do
		for own in / "${owns[@]}"; do
			d="$mnt${own%/}/$name"
			if [ -d "$d" ]; then
				printf '%s\n' "$d"
			fi
		done
	done | sort -u
}

# The cgroup directories of qube Q of this store (in every hierarchy): its
# leaf under $SPLQ_CGROUP is Q.<12 hex digits of its store's id>.
qube_cgroup_dirs() {
	local q=$1 d c leaf id
	while IFS= read -r d; do
		for c in "$d/$q".*; do
			[ -d "$c" ] || continue
			leaf=${c##*/}
			id=${leaf#"$q".}
			if [[ $leaf == "$q.$id" && $id =~ ^[0-9a-f]{12}$ ]]; then
				printf '%s\n' "$c"
			fi
		done
	done < <(splq_cgroup_dirs "$SPLQ_CGROUP")
}

# The cgroup directories of the supervisor of qube Q of this store (in
# every hierarchy it has one in): Q.<12 hex digits>.sup beside the qube's.
supervisor_cgroup_dirs() {
	local q=$1 d c id
	while IFS= read -r d; do
		for c in "$d/$q".*.sup; do
			[ -d "$c" ] || continue
			id=${c##*/}
			id=${id#"$q".}
			id=${id%.sup}
			if [[ $id =~ ^[0-9a-f]{12}$ ]]; then
				printf '%s\n' "$c"
			fi
		done
	done < <(splq_cgroup_dirs "$SPLQ_CGROUP")
}

# Pids of every process in the cgroup directories given, recursively.
splq_cgroup_pids() {
	local d
	for d in "$@"; do
		[ -d "$d" ] || continue
		find "$d" -name cgroup.procs -type f -exec cat {} + 2>/dev/null || true
	done | sort -un
}

# Mount points (in this mount namespace) under any of the directories given,
# deepest first.
splq_mounts_under() {
	local dir
	{ findmnt -rn -o TARGET 2>/dev/null || true; } | while IFS= read -r t; do
		for dir in "$@"; do
			[ -n "$dir" ] || continue
			case $t in
			"$dir" | "$dir"/*) printf '%s\n' "$t" ;;
			esac
		done
	done | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2- | uniq
}

# Loop devices whose backing file is under any of the directories given,
# one "DEVICE FILE" a line.
splq_loops_under() {
	local dev file dir
	{ losetup --list --noheadings --output NAME,BACK-FILE 2>/dev/null || true; } |
		while read -r dev file; do
			file=${file% (deleted)}
			for dir in "$@"; do
				[ -n "$dir" ] || continue
				case $file in
				"$dir"/*) printf '%s %s\n' "$dev" "$file" ;;
				esac
			done
		done
}

# Remove everything a scratch splq environment left: kill every process in
# the cgroup parent CGROUP (by pid), remove its cgroup directories (deepest
# first), unmount whatever is mounted under HOME and RUN, detach the loop
# devices of files under them, remove HOME and RUN.  Never fails; says on
# stderr what it could not remove.
splq_scratch_cleanup() {
	local home=$1 run=$2 cgroup=$3
	local -a dirs pids mnts
	local i d p

	# splq's own background work (a preload filler) first, so that it
	# starts nothing more: the splq processes of this environment
	if [ -n "$run" ]; then
		for ((i = 0; i < 50; i++)); do
			mapfile -t pids < <(splq_env_pids "$run")
			[ "${#pids[@]}" -gt 0 ] || break
			kill -KILL "${pids[@]}" 2>/dev/null || true
			sleep 0.05
		done
	fi

	if [ -n "$cgroup" ]; then
		mapfile -t dirs < <(splq_cgroup_dirs "$cgroup")
		for ((i = 0; i < 50; i++)); do
			mapfile -t pids < <(splq_cgroup_pids "${dirs[@]}")
			[ "${#pids[@]}" -gt 0 ] || break
			# A frozen process cannot die: thaw first.
			for d in "${dirs[@]}"; do
				find "$d" -name freezer.state -exec sh -c 'echo THAWED > "$1"' _ {} \; \
					2>/dev/null || true
				find "$d" -name cgroup.freeze -exec sh -c 'echo 0 > "$1"' _ {} \; \
					2>/dev/null || true
			done
			for p in "${pids[@]}"; do
				if [[ $p =~ ^[0-9]+$ ]] && [ "$p" -gt 1 ]; then
					kill -KILL "$p" 2>/dev/null || true
				fi
			done
			sleep 0.1
		done
		if [ "${#pids[@]}" -gt 0 ]; then
			echo "cleanup: processes still in cgroup $cgroup: ${pids[*]}" >&2
		fi
		for ((i = 0; i < 20; i++)); do
			local left=0
			for d in "${dirs[@]}"; do
				[ -d "$d" ] || continue
				find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
				if [ -d "$d" ]; then
					left=1
				fi
			done
			if [ "$left" = 0 ]; then
				break
			fi
			sleep 0.1
		done
		for d in "${dirs[@]}"; do
			if [ -d "$d" ]; then
				echo "cleanup: cannot remove cgroup $d" >&2
			fi
		done
	fi

	for ((i = 0; i < 10; i++)); do
		mapfile -t mnts < <(splq_mounts_under "$home" "$run")
		[ "${#mnts[@]}" -gt 0 ] || break
		for d in "${mnts[@]}"; do
			umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null || true
		done
	done
	if [ "${#mnts[@]}" -gt 0 ]; then
		echo "cleanup: still mounted: ${mnts[*]}" >&2
	fi

	# (a loop device whose file system was unmounted lazily goes once its
	# last user has: allow it a few seconds)
	local -a loops
	for ((i = 0; i < 50; i++)); do
		mapfile -t loops < <(splq_loops_under "$home" "$run")
		[ "${#loops[@]}" -gt 0 ] || break
		for d in "${loops[@]}"; do
			losetup -d "${d%% *}" 2>/dev/null || true
		done
		sleep 0.1
	done
	if [ "${#loops[@]}" -gt 0 ]; then
		echo "cleanup: loop devices still attached: ${loops[*]}" >&2
	fi

	for d in "$home" "$run"; do
		case $d in
		/tmp/?*)
			if [ -e "$d" ]; then
				rm -rf --one-file-system "$d" 2>/dev/null ||
					echo "cleanup: cannot remove $d" >&2
			fi
			;;
		esac
	done
	return 0
}

# The pids of splq processes (by /proc/PID/comm) started with SPLQ_RUN=$1
# in their environment: the background work of that scratch environment.
splq_env_pids() {
	local run=$1 p comm
	for p in /proc/[0-9]*; do
		# (read, not a command: this runs at every test's end)
		comm=
		{ read -r comm <"$p/comm"; } 2>/dev/null || continue
		[ "$comm" = splq ] || continue
		if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "SPLQ_RUN=$run"; then
			printf '%s\n' "${p#/proc/}"
		fi
	done
}

# The splq processes of splq_env_pids but the warm qrexec-in servers
# (`splq qrexec-in --warm`: a running qube's supervisor keeps one ready for
# its next call, 30 s, and it goes with the qube).
splq_background_pids() {
	local p cmd
	for p in $(splq_env_pids "$1"); do
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		[[ $cmd == "splq qrexec-in --warm "* ]] || printf '%s\n' "$p"
	done
}

# Wait (at most 10 s) until the background work of this test's splq
# environment (a disposable's clean-up, a preload filler) has ended.
splq_wait_background() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -z "$(splq_background_pids "$SPLQ_RUN")" ] && return 0
		sleep 0.05
	done
	echo "splq background work still running: $(splq_background_pids "$SPLQ_RUN")" >&2
	return 1
}

# A command line for hyperfine -N (which splits words like a shell).
cmdline() {
	local out="" a
	for a in "$@"; do
		out+="$(printf '%q' "$a") "
	done
	printf '%s' "${out% }"
}

# Is $1 one of the other arguments?
_splq_in() {
	local x=$1
	shift
	local y
	for y in "$@"; do
		[ "$x" = "$y" ] && return 0
	done
	return 1
}

# Fail (with a list of what is left) unless the test left nothing behind but
# the qubes named as arguments (still running ones): no directory under
# $SPLQ_RUN/qubes, no cgroup below $SPLQ_CGROUP, no process in those
# cgroups, no mount whose target or source names $SPLQ_HOME or $SPLQ_RUN,
# no loop device backed by a file under them.
# Is MNT a mount point $SPLQ_RUN/roots/T/N whose generation
# $SPLQ_HOME/templates/T/roots/N.img still exists, mounted read-only?
splq_generation_mount() {
	local mnt=$1
	if [[ $mnt =~ ^$SPLQ_RUN/roots/([^/]+)/([0-9]+)$ ]]; then
		[ -f "$SPLQ_HOME/templates/${BASH_REMATCH[1]}/roots/${BASH_REMATCH[2]}.img" ] || return 1
	elif [[ $mnt =~ ^$SPLQ_RUN/privates/([^/]+)/([0-9]+)$ ]]; then
		# a dvm's private snapshot's, the same way
		[ -f "$SPLQ_HOME/qubes/${BASH_REMATCH[1]}/snaps/${BASH_REMATCH[2]}.img" ] || return 1
	else
		return 1
	fi
	findmnt -n -o OPTIONS --mountpoint "$mnt" 2>/dev/null | grep -q '^ro,'
}

# Mount points of template root generations under $SPLQ_RUN/roots, one a
# line.
splq_generation_mounts() {
	awk -v r="$SPLQ_RUN/roots/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo
}

assert_leftovers_none() {
	local -a expected=("$@") problems=() dirs children pids
	local e d c name line ok

	splq_wait_background || problems+=("background splq processes")
	if [ -d "$SPLQ_RUN/qubes" ]; then
		for d in "$SPLQ_RUN"/qubes/* "$SPLQ_RUN"/qubes/.[!.]*; do
			[ -e "$d" ] || continue
			name=${d##*/}
			_splq_in "$name" "${expected[@]}" || problems+=("runtime directory $d")
		done
	fi

	mapfile -t dirs < <(splq_cgroup_dirs "$SPLQ_CGROUP")
	for d in "${dirs[@]}"; do
		# processes directly in the parent, outside any qube
		if [ -f "$d/cgroup.procs" ] && [ -s "$d/cgroup.procs" ]; then
			problems+=("processes in $d: $(tr '\n' ' ' <"$d/cgroup.procs")")
		fi
		mapfile -t children < <(find "$d" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
		for c in "${children[@]}"; do
			# Q.<id>, and Q.<id>.sup for its supervisor (cgroup.h)
			if _splq_in "${c%.*}" "${expected[@]}" ||
				{ [[ $c == *.sup ]] && _splq_in "${c%.*.sup}" "${expected[@]}"; }; then
				continue
			fi
			problems+=("cgroup $d/$c")
			mapfile -t pids < <(splq_cgroup_pids "$d/$c")
			if [ "${#pids[@]}" -gt 0 ]; then
				problems+=("processes in $d/$c: ${pids[*]}")
			fi
		done
	done

	while IFS= read -r line; do
		ok=0
		for e in "${expected[@]}"; do
			case $line in
			*/"$e"/* | */"$e" | */"$e"\ *) ok=1 ;;
			esac
		done
		# the read-only mount of a template root generation that still
		# exists stays (rootmnt.h); one of a removed generation is a leak
		if splq_generation_mount "${line%% *}"; then
			ok=1
		fi
		[ "$ok" = 1 ] || problems+=("mount: $line")
	done < <(awk -v h="$SPLQ_HOME" -v r="$SPLQ_RUN" '{
		src = ""
		for (i = 7; i <= NF; i++)
			if ($i == "-") { src = $(i + 2); break }
		if (index($5, h) || index($5, r) || index(src, h) || index(src, r) ||
		    index($4, h) || index($4, r))
			print $5 " (from " src ")"
	}' /proc/self/mountinfo)

	while IFS= read -r line; do
		ok=0
		for e in "${expected[@]}"; do
			case $line in
			*/qubes/"$e"/*) ok=1 ;;
			esac
		done
		# the loop device of such a mount
		if [[ $line =~ ^[^\ ]+\ $SPLQ_HOME/templates/([^/]+)/roots/([0-9]+)\.img$ ]] &&
			splq_generation_mount "$SPLQ_RUN/roots/${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"; then
			ok=1
		fi
		if [[ $line =~ ^[^\ ]+\ $SPLQ_HOME/qubes/([^/]+)/snaps/([0-9]+)\.img$ ]] &&
			splq_generation_mount "$SPLQ_RUN/privates/${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"; then
			ok=1
		fi
		[ "$ok" = 1 ] || problems+=("loop device: $line")
	done < <(splq_loops_under "$SPLQ_HOME" "$SPLQ_RUN")

	if [ "${#problems[@]}" -gt 0 ]; then
		printf 'left behind: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# Create a TemplateVM NAME from the host (/usr read-only, its own /etc).
make_host_template() {
	local out
	if ! out=$("$SPLQ" template create "$1" --base host 2>&1); then
		printf 'splq template create %s --base host failed: %s\n' "$1" "$out" >&2
		return 1
	fi
}

# policy LINE...: the test's own qrexec rules, before splq's default.
policy() {
	printf '%s\n' "$@" >"$SPLQ_HOME/policy.d/30-test.policy"
}

# Run CMD inside qube Q as the qube's root: in_root Q CMD...
in_root() {
	local q=$1
	shift
	"$SPLQ" run --user root "$q" -- "$@"
}

# A host template T (default t, made once) and an AppVM Q on it:
# make_qube Q [T [create options...]]
make_qube() {
	local q=$1 t=${2:-t}
	shift 2 2>/dev/null || shift
	if [ ! -d "$SPLQ_HOME/templates/$t" ]; then
		make_host_template "$t" || return 1
	fi
	local out
	if ! out=$("$SPLQ" create "$q" --template "$t" "$@" 2>&1); then
		printf 'splq create %s --template %s %s failed: %s\n' "$q" "$t" "$*" "$out" >&2
		return 1
	fi
}

# Is $output (or the argument) one valid JSON object?
assert_json() {
	local text=${1-$output}
	if ! printf '%s' "$text" | python3 -c '
import json, sys
v = json.load(sys.stdin)
sys.exit(0 if isinstance(v, dict) else 1)'; then
		printf 'not one JSON object: %s\n' "$text" >&2
		return 1
	fi
}

# Print a value from the JSON object in $output: json_get KEY [KEY...]
# (an integer key indexes a list).  Booleans print as true/false, null as
# null, objects and lists as JSON.
json_get() {
	printf '%s' "$output" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
    print(json.dumps(v))
else:
    print(v)' "$@"
}

# Check the exit status of the last `run`, showing the output if it differs.
assert_status() {
	if [ "$status" -ne "$1" ]; then
		printf 'expected exit status %s, got %s; output:\n%s\n' "$1" "$status" "$output" >&2
		return 1
	fi
}

# Wait (at most $1 tenths of a second) until the command succeeds.
wait_for() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# The state of qube $1 as `splq ls --json` tells it ("absent" when not listed).
qube_state() {
	"$SPLQ" --json ls | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next((q["state"] for q in d["qubes"] if q["name"] == sys.argv[1]), "absent"))' "$1"
}

state_is() {
	[ "$(qube_state "$1")" = "$2" ]
}

# A test "internet" of two new network namespaces: UP ($1), where a
# network qube may live (uplink netns:UP), and INET ($2), holding
# 198.51.100.10, .11, .53 and 2001:db8:100::10 on its loopback for test
# servers; UP reaches INET over a veth pair (203.0.113.2 -> .1,
# 2001:db8:113::2 -> ::1) and routes everything there.  Documentation
# addresses only; nothing leaves the machine.
splq_test_internet() {
	local up=$1 inet=$2 a
	ip netns add "$up"
	ip netns add "$inet"
	ip link add up0 netns "$up" type veth peer name in0 netns "$inet"
	ip -n "$up" addr add 203.0.113.2/24 dev up0
	ip -n "$up" addr add 2001:db8:113::2/64 dev up0 nodad
	ip -n "$up" link set up0 up
	ip -n "$up" route add default via 203.0.113.1
	ip -n "$up" -6 route add default via 2001:db8:113::1
	ip -n "$inet" addr add 203.0.113.1/24 dev in0
	ip -n "$inet" addr add 2001:db8:113::1/64 dev in0 nodad
	ip -n "$inet" link set in0 up
	ip -n "$inet" link set lo up
	for a in 198.51.100.10/32 198.51.100.11/32 198.51.100.53/32 2001:db8:100::10/128; do
		ip -n "$inet" addr add "$a" dev lo
	done
}
