#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, stderr, lines: set by bats' run
# splq: the model from the command line: prefs (properties), tags,
# features, and the JSON that every command prints.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
}

teardown() {
	teardown_splq
}

# Run a python3 assertion over the JSON object in $output (as `d`).
json_check() {
	if ! printf '%s' "$output" | python3 -c "
import json, sys
d = json.load(sys.stdin)
$1
"; then
		printf 'JSON check failed: %s\non: %s\n' "$1" "$output" >&2
		return 1
	fi
}

# `splq --json ARGS...` must succeed: exit 0, one JSON object, success
# true, code 0.
json_ok() {
	run --separate-stderr splq --json "$@"
	if [ "$status" -ne 0 ]; then
		printf 'splq --json %s: exit %s, stdout %s, stderr %s\n' "$*" "$status" "$output" "$stderr" >&2
		return 1
	fi
	assert_json
	json_check 'assert d["success"] is True and d["code"] == 0, d'
}

# `splq --json ARGS...` must fail with exit CODE: one JSON object with
# success false, code CODE (the exit code) and an error message, nothing on
# stderr.
json_err() {
	local code=$1
	shift
	run "-$code" --separate-stderr splq --json "$@"
	if [ "$status" -ne "$code" ]; then
		printf 'splq --json %s: expected exit %s, got %s; stdout %s, stderr %s\n' \
			"$*" "$code" "$status" "$output" "$stderr" >&2
		return 1
	fi
	assert_json
	json_check "assert d['success'] is False and d['code'] == $code, d
assert isinstance(d['error'], str) and d['error'], d"
	if [ -n "$stderr" ]; then
		printf 'splq --json %s wrote to stderr: %s\n' "$*" "$stderr" >&2
		return 1
	fi
}

# `splq prefs Q PROP VALUE` must fail with exit CODE and leave PROP as it was.
prefs_refused() {
	local code=$1 q=$2 prop=$3 value=$4 before
	before=$("$SPLQ" prefs "$q" "$prop")
	run --separate-stderr splq prefs "$q" "$prop" "$value"
	if [ "$status" -ne "$code" ]; then
		printf 'prefs %s %s %q: expected exit %s, got %s (%s)\n' "$q" "$prop" "$value" \
			"$code" "$status" "$stderr" >&2
		return 1
	fi
	[[ $stderr == "splq: "*"$prop"* ]] || {
		printf 'prefs %s %s %q: the message does not name the property: %s\n' \
			"$q" "$prop" "$value" "$stderr" >&2
		return 1
	}
	[ "$("$SPLQ" prefs "$q" "$prop")" = "$before" ]
}

# The properties every qube has (qvm-prefs names).
PROPS=(name label template netvm provides_network memory maxmem vcpus default_user
	default_dispvm template_for_dispvms include_in_backups autostart qrexec_timeout
	shutdown_timeout uuid)

# --- 8. prefs ---------------------------------------------------------------

@test "prefs: the list shows every property with D or -" {
	make_host_template t
	splq create q -t t --memory 1024 --label blue

	run --separate-stderr splq prefs q
	assert_status 0
	local line p
	for line in "${lines[@]}"; do
		[[ $line =~ ^[a-z_0-9]+\ +[D-](\ +.*)?$ ]] || {
			echo "bad line: '$line'"
			return 1
		}
	done
	for p in "${PROPS[@]}"; do
		printf '%s\n' "${lines[@]}" | grep -qE "^$p +[D-]" || {
			echo "property $p is not listed"
			return 1
		}
	done
	# set ones are -, defaults D, with their values
	printf '%s\n' "${lines[@]}" | grep -qxE 'memory +- +1024'
	printf '%s\n' "${lines[@]}" | grep -qxE 'label +- +blue'
	printf '%s\n' "${lines[@]}" | grep -qxE 'template +- +t'
	printf '%s\n' "${lines[@]}" | grep -qxE 'vcpus +D +2'
	printf '%s\n' "${lines[@]}" | grep -qxE 'default_user +D +user'
	printf '%s\n' "${lines[@]}" | grep -qxE 'template_for_dispvms +D +False'
	printf '%s\n' "${lines[@]}" | grep -qxE 'shutdown_timeout +D +60'
	printf '%s\n' "${lines[@]}" | grep -qxE 'netvm +D *'
	# the columns line up
	[ "$(printf '%s\n' "${lines[@]}" | awk '{ match($0, /^[a-z_0-9]+ +/); print RLENGTH }' | sort -u | wc -l)" = 1 ]
}

@test "prefs: get, set, --default reset" {
	make_host_template t
	splq create q -t t

	run --separate-stderr splq prefs q memory
	assert_status 0
	[ "$output" = 400 ]
	run --separate-stderr splq prefs q memory 1024
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr splq prefs q memory
	[ "$output" = 1024 ]
	run --separate-stderr splq prefs q
	printf '%s\n' "${lines[@]}" | grep -qxE 'memory +- +1024'

	run --separate-stderr splq prefs --default q memory
	assert_status 0
	run --separate-stderr splq prefs q memory
	[ "$output" = 400 ]
	run --separate-stderr splq prefs q
	printf '%s\n' "${lines[@]}" | grep -qxE 'memory +D +400'

	splq prefs q vcpus 1
	run --separate-stderr splq prefs -D q vcpus
	assert_status 0
	run --separate-stderr splq prefs q vcpus
	[ "$output" = 2 ]

	# set survives a new splq process and shows in ls
	splq prefs q label purple
	run --separate-stderr splq prefs q label
	[ "$output" = purple ]
	run --separate-stderr splq ls
	[ "$(printf '%s\n' "$output" | awk '$1 == "q" { print $4 }')" = purple ]
}

@test "prefs: values are checked by type and range" {
	make_host_template t
	splq create q -t t

	splq prefs q memory 1024
	[ "$("$SPLQ" prefs q memory)" = 1024 ]
	prefs_refused 69 q memory abc
	prefs_refused 69 q memory 1
	prefs_refused 69 q memory ''
	prefs_refused 69 q memory 99999999999999999999
	prefs_refused 69 q vcpus 0
	prefs_refused 69 q vcpus 2x

	splq prefs q label purple
	[ "$("$SPLQ" prefs q label)" = purple ]
	prefs_refused 69 q label pink
	splq prefs q label 4
	[ "$("$SPLQ" prefs q label)" = green ]

	local v
	for v in true True yes 1; do
		splq prefs q template_for_dispvms "$v"
		[ "$("$SPLQ" prefs q template_for_dispvms)" = True ]
	done
	for v in false False no 0; do
		splq prefs q template_for_dispvms "$v"
		[ "$("$SPLQ" prefs q template_for_dispvms)" = False ]
	done
	prefs_refused 69 q template_for_dispvms junk
	prefs_refused 69 q autostart maybe
	prefs_refused 69 q shutdown_timeout soon
}

@test "prefs: unknown property 66, read-only 69, netvm 69, vcpus while running 68" {
	make_host_template t
	splq create q -t t

	run --separate-stderr splq prefs q no_such_prop
	assert_status 66
	[[ $stderr == *no_such_prop* ]]
	run --separate-stderr splq prefs q no_such_prop 1
	assert_status 66
	[[ $stderr == *no_such_prop* ]]
	run --separate-stderr splq prefs --default q no_such_prop
	assert_status 66

	prefs_refused 69 q uuid 00000000-0000-0000-0000-000000000001
	[[ $stderr == *read-only* ]]
	prefs_refused 69 q name other
	prefs_refused 69 q netvm t
	# an empty netvm is fine
	run --separate-stderr splq prefs q netvm ''
	assert_status 0

	splq start q
	prefs_refused 68 q vcpus 1
	[[ $stderr == *running* ]]
	splq shutdown --wait q
	splq prefs q vcpus 1
	[ "$("$SPLQ" prefs q vcpus)" = 1 ]
}

@test "prefs on a missing qube is exit 66" {
	run --separate-stderr splq prefs nosuch
	assert_status 66
	[[ $stderr == *"no such qube 'nosuch'"* ]]
	run --separate-stderr splq prefs nosuch memory
	assert_status 66
	run --separate-stderr splq prefs nosuch memory 800
	assert_status 66
	run --separate-stderr splq prefs --default nosuch memory
	assert_status 66
}

@test "prefs --json: the shapes of list, get, set and reset" {
	make_host_template t
	splq create q -t t --memory 1024

	json_ok prefs q
	json_check '
assert d["qube"] == "q"
props = d["properties"]
assert isinstance(props, dict) and props
kinds = {"str": str, "label": str, "int": int, "bool": bool, "vm": (str, type(None))}
for name, p in props.items():
    assert set(p) == {"value", "default", "type"}, (name, p)
    assert p["type"] in kinds, (name, p)
    assert isinstance(p["value"], kinds[p["type"]]), (name, p)
    assert p["type"] == "bool" or not isinstance(p["value"], bool), (name, p)
    assert isinstance(p["default"], bool), (name, p)
for name in "'"${PROPS[*]}"'".split():
    assert (name if name != "klass" else "class") in props, name
assert "klass" not in props
assert props["class"] == {"value": "AppVM", "default": False, "type": "str"}
assert props["memory"] == {"value": 1024, "default": False, "type": "int"}
assert props["vcpus"] == {"value": 2, "default": True, "type": "int"}
assert props["label"]["type"] == "label"
assert props["template"] == {"value": "t", "default": False, "type": "vm"}
assert props["netvm"] == {"value": None, "default": True, "type": "vm"}
assert props["template_for_dispvms"] == {"value": False, "default": True, "type": "bool"}
assert props["default_user"]["type"] == "str"
'
	# the text list has the same properties
	local n
	n=$(printf '%s' "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["properties"]))')
	run --separate-stderr splq prefs q
	[ "${#lines[@]}" = "$n" ]

	json_ok prefs q memory
	json_check 'assert d["qube"] == "q" and d["property"] == "memory"
assert d["value"] == 1024 and d["default"] is False and d["type"] == "int"'

	json_ok prefs q memory 800
	json_check 'assert d["qube"] == "q" and d["property"] == "memory"
assert d["value"] == 800 and d["default"] is False'

	json_ok prefs --default q memory
	json_check 'assert d["qube"] == "q" and d["property"] == "memory"
assert d["value"] == 400 and d["default"] is True'

	json_ok prefs q template_for_dispvms yes
	json_check 'assert d["value"] is True and d["default"] is False'

	json_err 69 prefs q memory abc
	json_err 66 prefs q no_such_prop
	json_err 66 prefs nosuch
}

# --- 9. tags and features ---------------------------------------------------

@test "tags: list, add, del; created-by-dom0 is there; del of a missing tag is 66" {
	make_host_template t
	splq create q -t t

	run --separate-stderr splq tags q
	assert_status 0
	[ "$output" = created-by-dom0 ]
	run --separate-stderr splq tags q list
	assert_status 0
	[ "$output" = created-by-dom0 ]

	run --separate-stderr splq tags q add zeta alpha project-x
	assert_status 0
	run --separate-stderr splq tags q
	[ "$output" = "alpha
created-by-dom0
project-x
zeta" ]
	# adding one it already has changes nothing
	run --separate-stderr splq tags q add alpha
	assert_status 0
	[ "$("$SPLQ" tags q | grep -c '^alpha$')" = 1 ]

	run --separate-stderr splq tags q del zeta
	assert_status 0
	run --separate-stderr splq tags q
	[ "$output" = "alpha
created-by-dom0
project-x" ]

	run --separate-stderr splq tags q del no-such-tag
	assert_status 66
	[[ $stderr == *no-such-tag* ]]
	run --separate-stderr splq tags q add 'bad tag'
	assert_status 69
	run --separate-stderr splq tags q
	[[ $output != *bad* ]]

	json_ok tags q
	json_check 'assert d == {"success": True, "code": 0, "qube": "q", "tags": ["alpha", "created-by-dom0", "project-x"]}, d'
	json_ok tags q add beta
	json_check 'assert d["qube"] == "q" and "beta" in d["tags"], d'
	json_ok tags q del beta
	json_check 'assert "beta" not in d["tags"], d'
	json_err 66 tags q del beta
	json_err 66 tags nosuch

	# the other template has its own tags
	run --separate-stderr splq tags t
	[[ $output != *alpha* ]]
}

@test "features: set, get, list, --unset; missing is 66, a bad name refused" {
	make_host_template t
	splq create q -t t

	run --separate-stderr splq features q
	assert_status 0
	[ -z "$output" ]

	run --separate-stderr splq features q gui 1
	assert_status 0
	run --separate-stderr splq features q service.cups 'a value with spaces'
	assert_status 0
	run --separate-stderr splq features q gui
	assert_status 0
	[ "$output" = 1 ]
	run --separate-stderr splq features q
	assert_status 0
	[ "${#lines[@]}" = 2 ]
	[[ ${lines[0]} =~ ^gui\ +1$ ]]
	[[ ${lines[1]} =~ ^service\.cups\ +a\ value\ with\ spaces$ ]]
	# the value column lines up
	[ "$(printf '%s\n' "${lines[@]}" | awk '{ print index($0, $2) }' | sort -u | wc -l)" = 1 ]

	run --separate-stderr splq features q gui 0
	assert_status 0
	[ "$("$SPLQ" features q gui)" = 0 ]

	run --separate-stderr splq features --unset q gui
	assert_status 0
	run --separate-stderr splq features q gui
	assert_status 66
	[[ $stderr == *gui* ]]
	run --separate-stderr splq features --unset q gui
	assert_status 66
	run --separate-stderr splq features -D q service.cups
	assert_status 0
	run --separate-stderr splq features q
	[ -z "$output" ]

	run --separate-stderr splq features q 'bad name' x
	assert_status 69
	[[ $stderr == *"bad name"* ]]
	run --separate-stderr splq features q 'bad/name' x
	assert_status 69
	run --separate-stderr splq features q ok $'bad\x01value'
	assert_status 69
	run --separate-stderr splq features q
	[ -z "$output" ]

	run --separate-stderr splq features nosuch
	assert_status 66

	json_ok features q f1 v1
	json_check 'assert d["qube"] == "q" and d["feature"] == "f1" and d["value"] == "v1", d'
	json_ok features q
	json_check 'assert d["qube"] == "q" and d["features"] == {"f1": "v1"}, d'
	json_ok features q f1
	json_check 'assert d["feature"] == "f1" and d["value"] == "v1", d'
	json_ok features --unset q f1
	json_check 'assert d["feature"] == "f1" and d["value"] is None, d'
	json_err 66 features q f1
	json_err 69 features q 'bad name' x
}

# --- 10. JSON everywhere ----------------------------------------------------

@test "ls --json: the shape; one qube object alike in ls, check and prefs" {
	make_host_template t
	splq create q -t t --memory 800 --label blue
	splq create s -t t --class StandaloneVM
	splq tags q add work
	splq start q

	json_ok ls
	local ls=$output
	json_check '
qs = d["qubes"]
assert [q["name"] for q in qs] == ["dom0", "q", "s", "t"], qs
for q in qs:
    assert {"name", "class", "state", "label", "tags"} <= set(q), q
    assert "klass" not in q, q
assert qs[0]["class"] == "AdminVM" and qs[0]["state"] == "Running" and qs[0]["label"] == "black", qs[0]
assert qs[0]["default_template"] is None, qs[0]
q = qs[1]
assert (q["class"], q["state"], q["label"], q["template"], q["netvm"]) == ("AppVM", "Running", "blue", "t", None), q
assert q["memory"] == 800 and q["vcpus"] == 2 and q["autostart"] is False, q
assert q["tags"] == ["created-by-dom0", "work"], q
assert qs[2]["class"] == "StandaloneVM" and qs[2]["state"] == "Halted", qs[2]
assert qs[3]["class"] == "TemplateVM" and qs[3]["memory"] == 400, qs[3]
'
	# prefs: the same keys and values, with their defaults and types
	json_ok prefs q
	printf '%s\n%s\n' "$ls" "$output" | python3 -c '
import json, sys
ls, prefs = (json.loads(l) for l in sys.stdin)
q = ls["qubes"][1]
props = {k: v["value"] for k, v in prefs["properties"].items()}
assert {k: v for k, v in q.items() if k not in ("state", "tags")} == props, (q, props)'
	# check: the same object, for those that are
	run --separate-stderr splq --json check --running q s
	assert_status 3
	printf '%s\n%s\n' "$ls" "$output" | python3 -c '
import json, sys
ls, check = (json.loads(l) for l in sys.stdin)
assert check["qubes"] == [ls["qubes"][1]], check
assert check["exitCode"] == 3 and check["missing"] == [], check'
	# --fields: those keys alone, name first, in the object's names
	json_ok ls -O label,KLASS,memory,flags,ip q
	json_check 'assert d["qubes"] == [{"name": "q", "label": "blue", "class": "AppVM", "memory": 800, "flags": "ar------", "ip": ""}], d'
	json_err 66 ls no-such-qube
}

@test "--json: every command prints one object, on success and on error" {
	# template create
	json_ok template create t --base host
	json_check 'assert d["qube"] == "t"'
	json_err 67 template create t --base host
	json_err 65 template create 1bad --base host
	json_err 64 template create t2

	# create
	json_ok create q -t t
	json_check 'assert d["qube"] == "q"'
	json_err 67 create q -t t
	json_err 66 create q2 -t nosuch
	json_err 69 create q3 -t t --memory lots
	json_err 64 create q4

	# start, run
	json_ok start q
	json_check 'assert d["qube"] == "q"'
	json_err 66 start nosuch

	json_ok run q -- sh -c 'echo out; echo err >&2'
	json_check 'assert d["qube"] == "q" and d["exitCode"] == 0
assert d["stdout"] == "out\n" and d["stderr"] == "err\n", d
assert isinstance(d["duration"], int) and d["duration"] >= 0, d'
	# the command failed: splq did its part (code 0), the exit code passes
	run --separate-stderr splq --json run q -- sh -c 'exit 3'
	assert_status 3
	assert_json
	json_check 'assert d["success"] is False and d["code"] == 0 and d["exitCode"] == 3, d'
	json_err 66 run nosuch -- true
	json_err 127 run q -- no-such-command-xyz

	# dispvm
	json_ok dispvm --template t -- hostname
	json_check 'import re
assert re.fullmatch(r"disp[0-9]+", d["qube"]), d
assert d["stdout"] == d["qube"] + "\n" and d["exitCode"] == 0, d'
	run --separate-stderr splq --json dispvm --template t -- sh -c 'exit 5'
	assert_status 5
	assert_json
	json_check 'assert d["success"] is False and d["code"] == 0 and d["exitCode"] == 5, d'
	json_err 66 dispvm --template nosuch -- true
	json_err 66 dispvm -- true
	json_err 64 dispvm --timeout 0 --template t -- true

	# shutdown, clone, kill, remove
	json_ok shutdown --wait q
	json_check 'assert d["qube"] == "q"'
	json_err 66 shutdown nosuch
	json_ok clone q q2
	json_check 'assert d["qube"] == "q2"'
	json_err 67 clone q q2
	json_err 66 clone nosuch q5
	json_ok start q2
	json_ok kill q2
	json_check 'assert d["qube"] == "q2"'
	json_err 66 kill nosuch
	run --separate-stderr splq start q2
	json_err 68 remove q2
	splq shutdown --wait q2
	json_ok remove q2
	json_check 'assert d["qube"] == "q2"'
	json_err 66 remove q2
	json_err 68 remove t

	# several at once
	splq create a -t t
	splq create b -t t
	json_ok start a b
	json_check 'assert d["qubes"] == ["a", "b"], d'
	json_ok shutdown --wait a b
	json_check 'assert d["qubes"] == ["a", "b"], d'
	json_ok remove a b
	json_check 'assert d["qubes"] == ["a", "b"], d'

	# audit
	json_ok audit log
	json_check 'es = d["entries"]
assert es and all({"seq", "time", "actor", "op", "target", "args", "result", "prev"} <= set(e) for e in es), es[:2]
assert [e["seq"] for e in es] == sorted(e["seq"] for e in es)'
	json_ok audit log --qube q
	json_check 'assert d["entries"] and all(e["target"] == "q" for e in d["entries"]), d'
	json_err 64 audit log --since not-a-time
	json_ok audit verify
	json_check 'assert isinstance(d["count"], int) and d["count"] > 0 and "entries" not in d, d'

	# usage errors
	json_err 64 frobnicate
	json_err 64 ls --no-such-option
	json_err 64 prefs
	json_err 64 tags q frob
	assert_leftovers_none
}

@test "--json is accepted among a command's own options" {
	make_host_template t
	run --separate-stderr splq create q --json -t t
	assert_status 0
	assert_json
	json_check 'assert d == {"success": True, "code": 0, "qube": "q"}, d'
	run --separate-stderr splq prefs q memory --json
	assert_status 0
	assert_json
	json_check 'assert d["value"] == 400'
	run --separate-stderr splq run --json q -- echo hi
	assert_status 0
	assert_json
	json_check 'assert d["stdout"] == "hi\n"'
	# after the command, --json is the command's own argument
	run --separate-stderr splq run q -- echo --json
	assert_status 0
	[ "$output" = --json ]
}
