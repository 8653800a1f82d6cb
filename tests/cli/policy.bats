#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2030,SC2031  # run sets status etc.; @test bodies share globals
# splq: the qrexec policy from the command line: policy, policy eval and
# policy check, against the test vectors computed with Qubes' own
# evaluator (tests/data/qrexec-policy/: a copy in the repository, so every
# clone runs them).

bats_require_minimum_version 1.5.0

load helpers

VECTORS=${SPLQ_POLICY_VECTORS:-$BATS_TEST_DIRNAME/../data/qrexec-policy/vectors.jsonl}

setup() {
	require_root
	setup_splq
	PD=$SPLQ_HOME/pd
	mkdir -p "$PD"
	cat >"$SPLQ_HOME/si.json" <<'EOF'
{"domains": {
 "dom0": {"type": "AdminVM", "tags": [], "default_dispvm": "dvm", "template_for_dispvms": false,
          "power_state": "Running", "uuid": "00000000-0000-0000-0000-000000000000"},
 "work": {"type": "AppVM", "tags": ["dev"], "default_dispvm": "dvm", "template_for_dispvms": false,
          "power_state": "Running", "uuid": "11111111-0000-0000-0000-000000000001"},
 "vault": {"type": "AppVM", "tags": [], "default_dispvm": null, "template_for_dispvms": false,
           "power_state": "Running", "uuid": "11111111-0000-0000-0000-000000000002"},
 "dvm": {"type": "AppVM", "tags": [], "default_dispvm": null, "template_for_dispvms": true,
         "power_state": "Halted", "uuid": "11111111-0000-0000-0000-000000000003"}}}
EOF
	SI=$SPLQ_HOME/si.json
}

teardown() {
	teardown_splq
}

@test "policy: prints policy.d/ and makes it with a default that denies" {
	run -0 splq policy
	[ "$output" = "$SPLQ_HOME/policy.d/" ]
	[ -f "$SPLQ_HOME/policy.d/90-splq-default.policy" ]
	grep -qx '\* \* @anyvm @anyvm deny' "$SPLQ_HOME/policy.d/90-splq-default.policy"
	# every rule comes after a comment that says why
	run -0 awk '!/^#/ && NF && prev !~ /^#/ { bad = 1 } { prev = $0 } END { exit bad }' \
		"$SPLQ_HOME/policy.d/90-splq-default.policy"
	run -0 splq --json policy
	[ "$(jq -r .policyDir <<<"$output")" = "$SPLQ_HOME/policy.d/" ]
	[ "$(jq -r .success <<<"$output")" = true ]
	# the store's policy decides with the store's qubes: dom0 and nothing else
	run -0 splq policy check qubes.Filecopy+ dom0 dom0
	[[ $output == "deny: "* ]]
	# a policy.d/ that is there is left alone
	echo 'qubes.Filecopy * @adminvm @adminvm allow' >"$SPLQ_HOME/policy.d/30-user.policy"
	run -0 splq policy check qubes.Filecopy dom0 dom0
	[[ $output == "allow: dom0 may call qubes.Filecopy on dom0 ($SPLQ_HOME/policy.d/30-user.policy:1)" ]]
}

# Every 4th case (the unit tests take all of them); SPLQ_POLICY_ALL=1: all.
@test "policy eval: the vector cases agree with Qubes' evaluator" {
	if [ ! -f "$VECTORS" ]; then
		skip "no test vectors at $VECTORS"
	fi
	local dir=$SPLQ_HOME/vectors n=0 bad=0 c rc
	mkdir -p "$dir"
	# one folder per case: policy.d/a.policy, si.json, queries, expect
	python3 - "$VECTORS" "$dir" <<'EOF'
import json, os, sys
every = 1 if os.environ.get("SPLQ_POLICY_ALL") == "1" else 4
for i, line in enumerate(open(sys.argv[1])):
    if i % every:
        continue
    c = json.loads(line)
    d = os.path.join(sys.argv[2], "%04d" % c["case"])
    os.makedirs(os.path.join(d, "policy.d"))
    open(os.path.join(d, "policy.d", "a.policy"), "w").write(c["policy"])
    json.dump(c["system_info"], open(os.path.join(d, "si.json"), "w"))
    open(os.path.join(d, "queries"), "w").write("".join(q["q"] + "\n" for q in c["queries"]))
    open(os.path.join(d, "expect"), "w").write("".join(q["expect"] + "\n" for q in c["queries"]))
EOF
	for c in "$dir"/*; do
		n=$((n + 1))
		rc=0
		"$SPLQ" policy eval --policy-dir "$c/policy.d" --system-info "$c/si.json" \
			<"$c/queries" >"$c/got" 2>"$c/err" || rc=$?
		if grep -qx error "$c/expect"; then
			# a policy that does not load decides nothing, and says where
			[ "$rc" -eq 80 ] && [ ! -s "$c/got" ] && grep -q "a.policy:[0-9]*: " "$c/err" ||
				{ echo "case $c: exit $rc: $(cat "$c/err")"; bad=$((bad + 1)); }
		elif [ "$rc" -ne 0 ] || ! diff -q "$c/expect" "$c/got" >/dev/null; then
			echo "case $c: exit $rc"
			diff "$c/expect" "$c/got" | head -5
			bad=$((bad + 1))
		fi
	done
	echo "$n cases, $bad disagree"
	if [ "${SPLQ_POLICY_ALL:-}" = 1 ]; then
		[ "$n" -eq 400 ]
	else
		[ "$n" -eq 100 ]
	fi
	[ "$bad" -eq 0 ]
}

@test "policy eval: JSON, blank lines, a last line without newline, a bad query" {
	echo 'qubes.Filecopy * work @anyvm ask default_target=vault' >"$PD/50-a.policy"
	run -0 splq policy eval --policy-dir "$PD" --system-info "$SI" \
		< <(printf 'qubes.Filecopy+ work vault\n\n  \nqubes.Filecopy+ vault work')
	[ "${lines[0]}" = "ask targets=@dispvm:dvm,dvm,vault default_target=vault" ]
	[ "${lines[1]}" = "deny" ]
	[ "${#lines[@]}" -eq 2 ]
	run -0 splq --json policy eval --policy-dir "$PD" --system-info "$SI" <<<'qubes.Filecopy+ work vault'
	[ "$(jq -r '.decisions[0].decision' <<<"$output")" = "ask targets=@dispvm:dvm,dvm,vault default_target=vault" ]
	[ "$(jq -r '.decisions[0].targets | join(",")' <<<"$output")" = "@dispvm:dvm,dvm,vault" ]
	[ "$(jq -r '.decisions[0].line' <<<"$output")" = 1 ]
	[ "$(jq -r '.decisions[0].query' <<<"$output")" = "qubes.Filecopy+ work vault" ]
	run -69 splq policy eval --policy-dir "$PD" --system-info "$SI" < <(printf 'a+ work vault\nonly two\n')
	[ "${lines[0]}" = deny ]
	[[ ${lines[1]} == "splq: standard input, line 2: a query is SERVICE+ARG SOURCE TARGET" ]]
}

@test "policy check: the decision in words, with the deciding file and line" {
	cat >"$PD/50-config.policy" <<'EOF'
# comment
qubes.Filecopy * work @anyvm allow target=vault user=root
qubes.Other * work @anyvm ask autostart=no notify=yes
EOF
	run -0 splq policy check --policy-dir "$PD" --system-info "$SI" qubes.Filecopy+ work vault
	[ "$output" = "allow: work may call qubes.Filecopy+ on vault, as user root ($PD/50-config.policy:2)" ]
	run -0 splq policy check --policy-dir "$PD" --system-info "$SI" qubes.Filecopy work dvm
	[ "$output" = "allow: work may call qubes.Filecopy on vault (it asked for dvm), as user root ($PD/50-config.policy:2)" ]
	run -0 splq policy check --policy-dir "$PD" --system-info "$SI" qubes.Other+x work vault
	[ "$output" = "ask: work may call qubes.Other+x on vault if the user agrees, only if it is running, with a notification ($PD/50-config.policy:3)" ]
	run -0 splq policy check --policy-dir "$PD" --system-info "$SI" qubes.None+ work vault
	[ "$output" = "deny: work may not call qubes.None+ on vault: no rule matches" ]
	run -0 splq --json policy check --policy-dir "$PD" --system-info "$SI" qubes.Filecopy+ work vault
	[ "$(jq -r .decision <<<"$output")" = "allow target=vault user=root" ]
	[ "$(jq -r .target <<<"$output")" = vault ]
	[ "$(jq -r .user <<<"$output")" = root ]
	[ "$(jq -r .file <<<"$output")" = "$PD/50-config.policy" ]
	[ "$(jq -r .line <<<"$output")" = 2 ]
	run -64 splq policy check --policy-dir "$PD" --system-info "$SI" qubes.Filecopy+ work
	[[ ${lines[0]} == *"SERVICE+ARG SOURCE TARGET"* ]]
}

@test "policy: a syntax error anywhere names file and line (exit 80), nothing is decided" {
	echo 'qubes.Filecopy * work @anyvm allow' >"$PD/10-good.policy"
	mkdir "$PD/include"
	printf '# fine\nqubes.X * @anyvm @anyvm deny target=vault\n' >"$PD/include/bad"
	echo '!include include/bad' >"$PD/50-inc.policy"
	run -80 splq policy eval --policy-dir "$PD" --system-info "$SI" <<<'qubes.Filecopy+ work vault'
	[ "$output" = "splq: $PD/include/bad:2: deny takes no target= option" ]
	run -80 splq policy check --policy-dir "$PD" --system-info "$SI" qubes.Filecopy+ work vault
	[ "$output" = "splq: $PD/include/bad:2: deny takes no target= option" ]
	run -80 splq --json policy check --policy-dir "$PD" --system-info "$SI" qubes.Filecopy+ work vault
	[ "$(jq -r .code <<<"$output")" = 80 ]
	[[ $(jq -r .error <<<"$output") == "$PD/include/bad:2: "* ]]
	# bad characters in a service name
	echo 'qubes/X * @anyvm @anyvm allow' >"$PD/include/bad"
	run -80 splq policy eval --policy-dir "$PD" --system-info "$SI" </dev/null
	[[ $output == "splq: $PD/include/bad:1: service 'qubes/X'"* ]]
	# a file name Qubes refuses
	rm "$PD/50-inc.policy"
	echo '' >"$PD/60-Upper.policy"
	run -80 splq policy eval --policy-dir "$PD" --system-info "$SI" </dev/null
	[[ $output == *"60-Upper.policy"* ]]
	# files not ending in .policy are not read
	rm "$PD/60-Upper.policy"
	echo 'broken' >"$PD/70-notes.txt"
	run -0 splq policy eval --policy-dir "$PD" --system-info "$SI" <<<'qubes.Filecopy+ work vault'
	[ "$output" = "allow target=vault" ]
	# a policy directory that is not there
	run -66 splq policy eval --policy-dir "$PD/nosuch" --system-info "$SI" </dev/null
	[[ $output == *"no policy directory"* ]]
}

@test "policy: --system-info missing or malformed" {
	echo 'qubes.Filecopy * work @anyvm allow' >"$PD/10-good.policy"
	run -66 splq policy eval --policy-dir "$PD" --system-info "$SPLQ_HOME/nosuch.json" </dev/null
	[ "$output" = "splq: no system info file '$SPLQ_HOME/nosuch.json'" ]
	echo '{"domains": ' >"$SPLQ_HOME/bad.json"
	run -69 splq policy eval --policy-dir "$PD" --system-info "$SPLQ_HOME/bad.json" </dev/null
	[[ $output == "splq: $SPLQ_HOME/bad.json: not JSON"* ]]
	echo '{"domains": {"work": {"tags": "dev"}}}' >"$SPLQ_HOME/bad.json"
	run -69 splq policy check --policy-dir "$PD" --system-info "$SPLQ_HOME/bad.json" a+ work vault
	[[ $output == *"domain 'work': tags must be a list of strings"* ]]
	echo '[1, 2]' >"$SPLQ_HOME/bad.json"
	run -69 splq --json policy check --policy-dir "$PD" --system-info "$SPLQ_HOME/bad.json" a+ work vault
	[ "$(jq -r .code <<<"$output")" = 69 ]
	run -64 splq policy eval --system-info
	[[ ${lines[0]} == *"--system-info"*"needs a value"* ]]
}

@test "policy: the system info from the store" {
	if ! splq template create t --base host >/dev/null 2>&1; then
		skip "cannot make a template here"
	fi
	run -0 splq create work --template t
	run -0 splq create dvm --template t --prop template_for_dispvms=True
	run -0 splq tags work add dev
	run -0 splq prefs dom0 default_dispvm dvm
	mkdir -p "$SPLQ_HOME/policy.d"
	cat >"$SPLQ_HOME/policy.d/30-user.policy" <<'EOF'
qubes.A * @tag:dev @dispvm allow
qubes.B * @type:AppVM @anyvm ask
EOF
	run -0 splq policy eval <<'EOF'
qubes.A+ work @dispvm
qubes.A+ dvm @dispvm
qubes.B+ work dvm
EOF
	[ "${lines[0]}" = "allow target=@dispvm:dvm" ]
	[ "${lines[1]}" = "deny" ]
	[ "${lines[2]}" = "ask targets=@dispvm:dvm,@dispvm:t,dvm,t" ]
}
