#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016
# (status, output, stderr, lines: set by bats' run; a $ in single quotes is
# for the qube's shell)
# splq: the commands and options a Qubes user reaches for, as the qvm-*
# tools behave: pause and unpause (the cgroup freezer) and the Paused state
# wherever a state shows, check as qvm-check answers, start
# --skip-if-running, shutdown --all [--exclude], remove --force, and
# several qubes at once, each reported.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	make_qube q
}

teardown() {
	teardown_splq
}

# The last number the counter in q wrote to its log.
counter() {
	"$SPLQ" logs q | tail -n 1
}

@test "pause: a counter in the qube stops while it is paused and goes on after unpause; state Paused" {
	"$SPLQ" start q
	"$SPLQ" run --no-wait q -- sh -c 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done'
	wait_for 50 sh -c '[ "$("$SPLQ" logs q | tail -n 1)" -ge 3 ] 2>/dev/null'
	run "$SPLQ" pause q
	assert_status 0
	[ "$(qube_state q)" = Paused ]
	run "$SPLQ" ls
	[[ $output == *$'\n'"q     AppVM       Paused "* ]]
	local before after
	before=$(counter)
	sleep 1
	after=$(counter)
	[ "$before" = "$after" ]
	run "$SPLQ" unpause q
	assert_status 0
	[ "$(qube_state q)" = Running ]
	wait_for 50 sh -c '[ "$("$SPLQ" logs q | tail -n 1)" -gt '"$after"' ]'
	run "$SPLQ" audit log --qube q
	[[ ${lines[-2]} == *" pause q ok" ]]
	[[ ${lines[-1]} == *" unpause q ok" ]]
}

@test "pause: a halted qube or dom0 (68), unpause of one not paused (68), run into a paused one (68); pause twice and shutdown are fine" {
	run --separate-stderr "$SPLQ" pause q
	assert_status 68
	[ "$stderr" = "splq: qube 'q' is not running" ]
	run --separate-stderr "$SPLQ" pause dom0
	assert_status 68
	[ "$stderr" = "splq: dom0 cannot be paused: it is the host" ]
	run --separate-stderr "$SPLQ" pause nope
	assert_status 66
	"$SPLQ" start q
	run --separate-stderr "$SPLQ" unpause q
	assert_status 68
	[ "$stderr" = "splq: qube 'q' is not paused" ]
	"$SPLQ" pause q
	run "$SPLQ" pause q
	assert_status 0
	run --separate-stderr "$SPLQ" run q -- true
	assert_status 68
	[ "$stderr" = "splq: qube 'q' is paused; 'splq unpause q' resumes it" ]
	run --separate-stderr "$SPLQ" --json unpause q nope
	assert_status 66
	[ "$(json_get qubes 0)" = q ]
	[ "$(qube_state q)" = Running ]
	"$SPLQ" pause q
	run "$SPLQ" shutdown --wait q
	assert_status 0
	[ "$(qube_state q)" = Halted ]
	[ ! -e "$SPLQ_RUN/qubes/q/paused" ]
}

@test "check: exit 0 when all are, 3 when some are, 1 when none is or one does not exist, as qvm-check" {
	make_qube net t --prop provides_network=True
	run --separate-stderr "$SPLQ" check q t
	assert_status 0
	[ "$output" = $'q: exists\nt: exists' ]
	run --separate-stderr "$SPLQ" check --template q t
	assert_status 3
	[ "$output" = "t: template" ]
	run --separate-stderr "$SPLQ" check --running q
	assert_status 1
	[ "$output" = "None of qubes: running" ]
	run --separate-stderr "$SPLQ" check q nope
	assert_status 1
	[ "$output" = "q: exists" ]
	[ "$stderr" = "nope: non-existent!" ]
	run --separate-stderr "$SPLQ" check --networked q net
	assert_status 3
	[ "$output" = "net: networked" ]
	"$SPLQ" start q
	"$SPLQ" pause q
	run --separate-stderr "$SPLQ" check --running --paused q dom0
	assert_status 3
	[ "$output" = "q: running, paused" ]
	run --separate-stderr "$SPLQ" check -q --running q dom0
	assert_status 0
	[ -z "$output" ] && [ -z "$stderr" ]
	run --separate-stderr "$SPLQ" --json check --paused q nope
	assert_status 1
	[ "$(json_get success)" = false ]
	[ "$(json_get exitCode)" = 1 ]
	[ "$(json_get qubes 0 name)" = q ] && [ "$(json_get qubes 0 state)" = Paused ]
	[ "$(json_get missing 0)" = nope ]
	run --separate-stderr "$SPLQ" check
	assert_status 64
}

@test "start --skip-if-running: a running or paused qube is no error; without it, exit 68" {
	"$SPLQ" start q
	run --separate-stderr "$SPLQ" start q
	assert_status 68
	[ "$stderr" = "splq: qube 'q' is already running" ]
	run "$SPLQ" start --skip-if-running q
	assert_status 0
	"$SPLQ" pause q
	run --separate-stderr "$SPLQ" --json start --skip-if-running q t
	assert_status 0
	[ "$(json_get qubes)" = '["q", "t"]' ]
	[ "$(qube_state q)" = Paused ]
	[ "$(qube_state t)" = Running ]
	run --separate-stderr "$SPLQ" start --skip-if-running nope
	assert_status 66
}

@test "shutdown --all: every running qube but dom0 and --exclude, a netvm's clients before it" {
	make_qube net t --prop provides_network=True
	make_qube c1 t --prop netvm=net
	make_qube c2 t --prop netvm=net
	"$SPLQ" start c1 c2 q
	[ "$(qube_state net)" = Running ]
	run --separate-stderr "$SPLQ" --json shutdown --all --exclude q --wait
	assert_status 0
	[ "$(json_get qubes)" = '["c1", "c2", "net"]' ]
	[ "$(json_get failed)" = '[]' ]
	for x in c1 c2 net; do
		[ "$(qube_state "$x")" = Halted ]
	done
	[ "$(qube_state q)" = Running ]
	run --separate-stderr "$SPLQ" shutdown --all q
	assert_status 64
	run --separate-stderr "$SPLQ" shutdown --exclude q q
	assert_status 64
	[[ $stderr == *"--exclude goes with --all"* ]]
	run "$SPLQ" shutdown --all --wait
	assert_status 0
	[ "$(qube_state q)" = Halted ]
	# nothing runs: nothing to do
	run "$SPLQ" --json shutdown --all
	assert_status 0
	[ "$(json_get qubes)" = '[]' ]
}

@test "remove --force kills a running qube first; several at once go on past a failure, each reported" {
	make_qube r
	"$SPLQ" start q
	run --separate-stderr "$SPLQ" remove q
	assert_status 68
	[ "$stderr" = "splq: qube 'q' is running; shut it down first" ]
	run --separate-stderr "$SPLQ" remove --force q nope r
	assert_status 66
	[ "$stderr" = $'splq: no such qube \'nope\'\nsplq: 1 of 3 qubes could not be removed' ]
	[ "$(qube_state q)" = absent ]
	[ "$(qube_state r)" = absent ]
	run "$SPLQ" audit log --qube q
	[[ ${lines[-2]} == *" kill q ok" ]]
	[[ ${lines[-1]} == *" remove q ok" ]]
	# kill of several: the same
	make_qube a
	"$SPLQ" start a
	run --separate-stderr "$SPLQ" --json kill nope a
	assert_status 66
	[ "$(json_get qubes)" = '["a"]' ]
	[ "$(json_get failed 0 qube)" = nope ]
	[ "$(json_get error)" = "1 of 2 qubes could not be killed" ]
	[ "$(qube_state a)" = Halted ]
}

@test "ls: names, the state, class, tag and label filters, -O and -o, --raw-data and --raw-list, as written" {
	make_qube w t --label blue --prop vcpus=1
	"$SPLQ" tags w add web
	run "$SPLQ" ls --raw-list
	assert_status 0
	[ "$output" = $'dom0\nq\nt\nw' ]
	run "$SPLQ" ls -o simple q w
	assert_status 0
	[ "$output" = "NAME  STATE   CLASS  LABEL  TEMPLATE  NETVM
q     Halted  AppVM  red    t         -
w     Halted  AppVM  blue   t         -" ]
	run "$SPLQ" ls --raw-data -O name,CLASS,label,Memory,vcpus,default-user,netvm w t
	[ "$output" = $'w|AppVM|blue|400|1|user|-\nt|TemplateVM|black|400|'"$("$SPLQ" prefs t vcpus)"'|user|-' ]
	run "$SPLQ" ls --raw-data -O name,flags dom0 q t
	[ "$output" = $'dom0|0r------\nq|a-------\nt|t-U-----' ]
	run "$SPLQ" ls --raw-list --class TemplateVM
	[ "$output" = t ]
	run "$SPLQ" ls --raw-list --class templatevm,AdminVM
	[ "$output" = $'dom0\nt' ]
	run "$SPLQ" ls --raw-list --tags web
	[ "$output" = w ]
	run "$SPLQ" ls --raw-list --label BLUE --label black
	[ "$output" = $'dom0\nt\nw' ]
	"$SPLQ" start q
	run "$SPLQ" ls --raw-list --running
	[ "$output" = $'dom0\nq' ]
	"$SPLQ" pause q
	run "$SPLQ" ls --raw-list --paused
	[ "$output" = q ]
	run "$SPLQ" ls --raw-list --running --halted
	[ "$output" = $'dom0\nt\nw' ]
	run "$SPLQ" ls --raw-data -O name,state,flags q
	[ "$output" = "q|Paused|ap------" ]
}

@test "ls: a bad column, format, class or label is exit 64, a missing qube 66" {
	run --separate-stderr "$SPLQ" ls -O name,bogus
	assert_status 64
	[[ $stderr == "splq: unknown column 'bogus'"* ]]
	run --separate-stderr "$SPLQ" ls -o wide
	assert_status 64
	[[ $stderr == "splq: unknown format 'wide'"* ]]
	run --separate-stderr "$SPLQ" ls -o simple -O name
	assert_status 64
	run --separate-stderr "$SPLQ" ls --raw-list -O name
	assert_status 64
	run --separate-stderr "$SPLQ" ls --class VM
	assert_status 64
	[[ $stderr == "splq: unknown class 'VM'"* ]]
	run --separate-stderr "$SPLQ" ls --label pink
	assert_status 64
	run --separate-stderr "$SPLQ" ls q nope
	assert_status 66
	[ "$stderr" = "splq: no such qube 'nope'" ]
}

@test "ls: each name in its label's colour on a terminal, none through a pipe or with NO_COLOR" {
	local red=$'\e[38;2;204;0;0m' off=$'\e[0m'
	# a real pseudo-terminal (ptyrun.py, as terminal.bats has it)
	run python3 "$BATS_TEST_DIRNAME/ptyrun.py" -- "$SPLQ" ls -o simple q
	assert_status 0
	[[ $(json_get output) == *"${red}q${off}     Halted"* ]]
	run python3 "$BATS_TEST_DIRNAME/ptyrun.py" -- env NO_COLOR=1 "$SPLQ" ls -o simple q
	assert_status 0
	[[ $(json_get output) == *"q     Halted"* ]]
	[[ $(json_get output) != *$'\e['* ]]
	run "$SPLQ" ls -o simple q
	[[ $output != *$'\e['* ]]
}

@test "prefs --help-properties: every property with its type, default and help; with a QUBE, those of its class" {
	run --separate-stderr "$SPLQ" prefs --help-properties
	assert_status 0
	[[ ${lines[0]} == "NAME "*"TYPE "*"DEFAULT "*"HELP" ]]
	[[ $output == *$'\n'"autostart "*" bool "*" False "*"splq start --autostart"* ]]
	[[ $output == *$'\n'"default_template "*" vm "*" '' "*"when given no --template"* ]]
	# each property prefs shows for q has its line
	local p
	while read -r p _; do
		[[ $output == *$'\n'"$p "* ]] || {
			echo "no line for $p" >&2
			false
		}
	done < <("$SPLQ" prefs q)
	run --separate-stderr "$SPLQ" prefs --help-properties dom0
	assert_status 0
	[[ $output == *$'\n'"default_template "* ]]
	[[ $output != *$'\n'"vcpus "* ]]
	run --separate-stderr "$SPLQ" --json prefs --help-properties q
	assert_status 0
	[ "$(json_get properties 0 name)" = name ]
	[[ $(json_get properties) == *'"name": "vcpus", "type": "int"'*'"range": [1, 256]'* ]]
	[[ $(json_get properties) != *default_template* ]]
	run --separate-stderr "$SPLQ" prefs --help-properties nope
	assert_status 66
	run --separate-stderr "$SPLQ" prefs --help-properties q t
	assert_status 64
}

@test "run: -e sets variables, --workdir the directory, --no-autostart leaves a halted qube, --dispvm, --pass-io" {
	run --separate-stderr "$SPLQ" run -e FOO=bar --env X_1='a b' -p q -- sh -c 'echo "$FOO|$X_1|$PWD|$HOME"'
	assert_status 0
	[ "$output" = "bar|a b|/home/user|/home/user" ]
	run --separate-stderr "$SPLQ" run --workdir /tmp -u root q -- pwd
	assert_status 0
	[ "$output" = /tmp ]
	run --separate-stderr "$SPLQ" run --workdir /nonexistent q -- pwd
	assert_status 126
	[[ $stderr == *"cannot change to directory '/nonexistent': No such file or directory"* ]]
	run --separate-stderr "$SPLQ" run --workdir tmp q -- pwd
	assert_status 64
	run --separate-stderr "$SPLQ" run -e 1X=2 q -- true
	assert_status 64
	[[ $stderr == *"-e takes NAME=VALUE"* ]]
	run --separate-stderr "$SPLQ" run -e NOVALUE q -- true
	assert_status 64
	"$SPLQ" shutdown --wait q
	run --separate-stderr "$SPLQ" run --no-autostart q -- true
	assert_status 68
	[ "$stderr" = "splq: qube 'q' is not running, and may not be started for it" ]
	[ "$(qube_state q)" = Halted ]
	run --separate-stderr "$SPLQ" run --dispvm=t -- sh -c 'hostname; exit 3'
	assert_status 3
	[[ $output =~ ^disp[0-9]+$ ]]
	run --separate-stderr "$SPLQ" run --dispvm= -- true
	assert_status 64
}

@test "prefs: a value that starts with '-' is a value (the range message), not an option" {
	run --separate-stderr "$SPLQ" prefs q memory -5
	assert_status 69
	[ "$stderr" = "splq: property 'memory' takes an integer from 32 to 1048576, not '-5'" ]
	run "$SPLQ" features q answer -42
	assert_status 0
	[ "$("$SPLQ" features q answer)" = -42 ]
}

@test "durations: --timeout takes 1s and 5m, --since bare seconds and a date-time without Z; a bad unit is 64" {
	run --separate-stderr "$SPLQ" dispvm --timeout 1s --template t -- sleep 20
	assert_status 124
	"$SPLQ" start q
	run --separate-stderr "$SPLQ" shutdown --timeout 5m --wait q
	assert_status 0
	run "$SPLQ" audit log --qube q
	[[ ${lines[-1]} == *" shutdown q ok --wait --timeout 300" ]]
	run --separate-stderr "$SPLQ" dispvm --timeout 5y --template t -- true
	assert_status 64
	[[ $stderr == *"--timeout: duration '5y' has an unknown unit 'y'"* ]]
	run --separate-stderr "$SPLQ" dispvm --timeout 366d --template t -- true
	assert_status 64
	run --separate-stderr "$SPLQ" audit log --since 3600 --qube q
	assert_status 0
	[[ $output == *" shutdown q ok"* ]]
	run --separate-stderr "$SPLQ" audit log --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S)"
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr "$SPLQ" audit log --since "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S)" --qube q
	[[ $output == *" shutdown q ok"* ]]
}

@test "completion: splq ru<TAB> gives run, splq run <TAB> the qubes, options, properties and labels" {
	"$SPLQ" help --completion bash >"$BATS_TEST_TMPDIR/splq.bash"
	bash -n "$BATS_TEST_TMPDIR/splq.bash"
	run env PATH="$(dirname "$SPLQ"):$PATH" bash -c '
		. "$1"
		comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _splq; echo "${COMPREPLY[*]}"; }
		comp splq ru
		comp splq run ""
		comp splq run --wo
		comp splq prefs q me
		comp splq create x --label bl
		comp splq audit l' _ "$BATS_TEST_TMPDIR/splq.bash"
	assert_status 0
	[ "${lines[0]}" = run ]
	[ "${lines[1]}" = "dom0 q t" ]
	[ "${lines[2]}" = --workdir ]
	[ "${lines[3]}" = memory ]
	[ "${lines[4]}" = "blue black" ]
	[ "${lines[5]}" = log ]
	run --separate-stderr "$SPLQ" help --completion fish
	assert_status 64
	"$SPLQ" help --completion zsh | head -n 1 | grep -qx '#compdef splq'
}

@test "man pages: splq(1) and one per command or group; every command has its page; each renders without warnings" {
	local dir=$BATS_TEST_TMPDIR/man page name out n=0
	mkdir "$dir"
	run --separate-stderr "$SPLQ" help --man-pages
	assert_status 0
	[ "${lines[0]}" = splq ]
	for page in "${lines[@]}"; do
		"$SPLQ" help --man "$page" >"$dir/$page.1"
		out=$(MANWIDTH=80 man --warnings -l "$dir/$page.1" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "$page: $out" >&2; return 1; }
	done
	# every command of --help: on its page's synopsis, and in splq(1)
	for name in $("$SPLQ" help --json | python3 -c '
import json, sys
for c in json.load(sys.stdin)["commands"]: print(c["name"].replace(" ", "_"))'); do
		name=${name//_/ }
		MANWIDTH=200 man -l "$dir/splq-${name%% *}.1" | grep -q "^ *splq $name\b" ||
			{ echo "no synopsis of '$name' on splq-${name%% *}(1)" >&2; return 1; }
		MANWIDTH=200 man -l "$dir/splq.1" | grep -q "^ *splq $name\b" ||
			{ echo "splq(1) does not list '$name'" >&2; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 40 ]
	# a group's page has each of its commands: vault's twelve
	[ "$(MANWIDTH=200 man -l "$dir/splq-vault.1" | grep -c '^VAULT ')" = 12 ]
	run --separate-stderr "$SPLQ" help --man nosuch
	assert_status 66
	[ "$stderr" = "splq: no man page 'nosuch' (see 'splq help --man-pages')" ]
}

@test "docs/commands.md: each command's synopsis is the table's, which --help and the man pages print" {
	run "$BATS_TEST_DIRNAME/../../scripts/commands-md.py" --check "$SPLQ" "$BATS_TEST_DIRNAME/../../docs/commands.md"
	assert_status 0
	# and the check fails where they differ
	sed 's/^splq kill NAME\.\.\./splq kill [--all] NAME.../' "$BATS_TEST_DIRNAME/../../docs/commands.md" >"$BATS_TEST_TMPDIR/c.md"
	run "$BATS_TEST_DIRNAME/../../scripts/commands-md.py" --check "$SPLQ" "$BATS_TEST_TMPDIR/c.md"
	assert_status 1
	[[ $output == *"-splq kill [--all] NAME..."* ]]
}

@test "make install: binaries, man pages, completion and the systemd unit under DESTDIR and PREFIX" {
	local root=$BATS_TEST_TMPDIR/root repo=$BATS_TEST_DIRNAME/../..
	run make -C "$repo" -s BUILD="$(dirname "$SPLQ")" DESTDIR="$root" PREFIX=/usr install
	assert_status 0
	[ -x "$root/usr/bin/splq" ] && [ -x "$root/usr/libexec/splq/splq-init" ]
	[ -x "$root/usr/libexec/splq/qube/bin/splq-qube" ]
	[ "$(readlink "$root/usr/libexec/splq/qube/bin/qvm-copy")" = splq-qube ]
	[ -f "$root/usr/share/man/man1/splq.1" ] && [ -f "$root/usr/share/man/man1/splq-run.1" ]
	[ "$(ls "$root/usr/share/man/man1" | wc -l)" = "$("$SPLQ" help --man-pages | wc -l)" ]
	grep -q '^complete -F _splq splq$' "$root/usr/share/bash-completion/completions/splq"
	head -n 1 "$root/usr/share/zsh/site-functions/_splq" | grep -qx '#compdef splq'
	grep -qx 'ExecStart=/usr/bin/splq start --autostart' "$root/usr/lib/systemd/system/splq-autostart.service"
	"$root/usr/bin/splq" --version | grep -q '^splq '
}

@test "clone --label: the copy gets the label; an unknown one is 64 and copies nothing" {
	run --separate-stderr "$SPLQ" clone --label Green q q2
	assert_status 0
	[ "$("$SPLQ" prefs q2 label)" = green ]
	[ "$("$SPLQ" prefs q label)" = red ]
	run --separate-stderr "$SPLQ" clone --label pink q q3
	assert_status 64
	[[ $stderr == *"unknown label 'pink'"* ]]
	[ "$(qube_state q3)" = absent ]
}

@test "run --no-wait --json: started, with the command's pid in the qube, and no made-up exit code" {
	run --separate-stderr "$SPLQ" --json run --no-wait q -- sleep 300
	assert_status 0
	[ "$(json_get started)" = true ]
	local pid
	pid=$(json_get pid)
	[ "$pid" -gt 1 ]
	[[ $output != *exitCode* ]]
	run "$SPLQ" ps q
	[[ $output =~ (^|$'\n')\ +$pid\ +1\ +1000\ +S\ .*sleep\ 300 ]]
}

@test "run --json: output that is not UTF-8 comes whole as stdoutBase64 / stderrBase64; UTF-8 as a string" {
	run --separate-stderr "$SPLQ" --json run q -- sh -c 'printf "\377\376ok"; printf "caf\303\251" >&2'
	assert_status 0
	[ "$(json_get stdoutBase64)" = "//5vaw==" ]
	[[ $output != *'"stdout"'* ]]
	[ "$(json_get stderr)" = "café" ]
	[[ $output != *stderrBase64* ]]
}
