#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016  # run sets status etc.; $VARS: expanded in the qube
# splq: the vault qube and split signing.  Secrets round trip through a
# vault that keeps them encrypted on its private volume and its master key
# in its memory only; every tampering with its files is refused; no
# plaintext lands anywhere on disk; other qubes get a secret or a
# signature only where the policy says so; signatures are minisign's, and
# a seal in the audit log catches a rewritten history.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	BG_PIDS=()
	splq policy >/dev/null
	export SPLQ_VAULT_PASSPHRASE='correct horse battery staple'
	make_qube v
	run "$SPLQ" vault init v --scrypt-cost 10
	assert_status 0
	MARK="splq-marker-$RANDOM$RANDOM-value"
}

teardown() {
	kill_bg_pids
	teardown_splq
}

in_vault() {
	in_root v "$@"
}

# No file under the store (the vault's volume images too), the runtime
# folder or /tmp holds the marker, nor does the audit log; nor any file in
# the vault.
assert_no_plaintext() {
	local hits
	hits=$(python3 "$BATS_TEST_DIRNAME/find_marker.py" "$MARK" "$SPLQ_HOME" "$SPLQ_RUN" /tmp)
	if [ -n "$hits" ]; then
		printf 'plaintext found in: %s\n' "$hits" >&2
		return 1
	fi
	run in_vault grep -rlaF -- "$MARK" /home /tmp /run /var/tmp
	[ "$status" -ne 0 ] || { echo "plaintext in the vault: $output" >&2; return 1; }
}

@test "vault: round trips of an empty, a one-byte, a 10 MiB and a binary secret; list shows no value" {
	# the search finds a marker, even deep in a sparse file
	truncate -s 1G "$SPLQ_RUN/probe"
	printf '%s' "$MARK" | dd of="$SPLQ_RUN/probe" bs=1 seek=536870910 conv=notrunc status=none
	run ! assert_no_plaintext
	rm "$SPLQ_RUN/probe"
	: >"$BATS_TEST_TMPDIR/empty"
	printf x >"$BATS_TEST_TMPDIR/one"
	head -c 10485760 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	printf 'a\0b\0\0c\377\n%s' "$MARK" >"$BATS_TEST_TMPDIR/bin"
	for f in empty one big bin; do
		run "$SPLQ" vault store --qube v "$f" --from-file "$BATS_TEST_TMPDIR/$f"
		assert_status 0
		"$SPLQ" vault retrieve --qube v "$f" >"$BATS_TEST_TMPDIR/$f.out"
		cmp "$BATS_TEST_TMPDIR/$f" "$BATS_TEST_TMPDIR/$f.out"
	done
	# stdin, and a second version
	printf '%s' "$MARK" | "$SPLQ" vault store --qube v one
	run "$SPLQ" vault retrieve --qube v one
	[ "$output" = "$MARK" ]
	run "$SPLQ" --json vault list --qube v
	assert_status 0
	[ "$(json_get items 0 name)" = big ]
	[ "$(json_get items 0 size)" = 10485760 ]
	[ "$(json_get items 3 name)" = one ]
	[ "$(json_get items 3 version)" = 2 ]
	[[ $output != *"$MARK"* ]]
	run "$SPLQ" vault retrieve --qube v one --to-file "$BATS_TEST_TMPDIR/to"
	assert_status 0
	[ "$(cat "$BATS_TEST_TMPDIR/to")" = "$MARK" ]
	rm -f "$BATS_TEST_TMPDIR"/bin* "$BATS_TEST_TMPDIR/to"
	assert_no_plaintext
	# a value over 64 MiB: refused, the old one kept
	run bash -c 'head -c 67108865 /dev/zero | "$SPLQ" vault store --qube v big'
	assert_status 69
	[[ $output == *"a value has at most 64 MiB"* ]]
	"$SPLQ" vault retrieve --qube v big | cmp - "$BATS_TEST_TMPDIR/big"
	# delete: gone
	run "$SPLQ" vault delete --qube v one
	assert_status 0
	run "$SPLQ" vault retrieve --qube v one
	assert_status 66
	[[ $output == *"no secret 'one'"* ]]
}

@test "vault: locked until unlocked; a wrong passphrase or key file opens nothing; passwd keeps the records" {
	printf '%s' "$MARK" | "$SPLQ" vault store --qube v s
	run "$SPLQ" vault lock v
	assert_status 0
	run "$SPLQ" vault status v
	[ "$output" = locked ]
	run "$SPLQ" vault retrieve --qube v s
	assert_status 84
	[[ $output == *"vault 'v': the vault is locked (splq vault unlock)"* ]]
	SPLQ_VAULT_PASSPHRASE=wrong run "$SPLQ" vault unlock v
	assert_status 85
	[[ $output == *"wrong passphrase"* ]]
	run "$SPLQ" vault unlock v
	assert_status 0
	[ "$output" = "vault 'v' is unlocked" ]
	# unlocking an unlocked vault changes nothing, asks nothing
	SPLQ_VAULT_PASSPHRASE=wrong run "$SPLQ" vault unlock v
	assert_status 0
	[ "$output" = "vault 'v' was unlocked already" ]
	# a stopped vault forgets its key
	splq shutdown --wait v
	run "$SPLQ" vault retrieve --qube v s
	assert_status 84
	# passwd to a key file: the records are not touched
	run "$SPLQ" vault unlock v
	assert_status 0
	sums=$(in_vault sh -c 'cd /home/.splq-vault/current/r && sha256sum *')
	head -c 64 /dev/urandom >"$BATS_TEST_TMPDIR/key"
	run "$SPLQ" vault passwd v --key-file "$BATS_TEST_TMPDIR/key"
	assert_status 0
	[ "$(in_vault sh -c 'cd /home/.splq-vault/current/r && sha256sum *')" = "$sums" ]
	"$SPLQ" vault lock v
	run "$SPLQ" vault unlock v
	assert_status 85
	head -c 64 /dev/urandom >"$BATS_TEST_TMPDIR/other"
	run "$SPLQ" vault unlock v --key-file "$BATS_TEST_TMPDIR/other"
	assert_status 85
	[[ $output == *"wrong key file"* ]]
	run "$SPLQ" vault unlock v --key-file "$BATS_TEST_TMPDIR/key"
	assert_status 0
	[ "$("$SPLQ" vault retrieve --qube v s)" = "$MARK" ]
	# --passphrase-fd, back to a passphrase
	run "$SPLQ" vault passwd v --old-key-file "$BATS_TEST_TMPDIR/key" --passphrase-fd 3 3<<<'new words'
	assert_status 0
	"$SPLQ" vault lock v
	run "$SPLQ" vault unlock v --passphrase-fd 3 3<<<'new words'
	assert_status 0
}

# record_of NAME: the file in r/ of the record of a one-letter secret
# NAME: its header holds the name's length (byte 9) and the name (at 44).
record_of() {
	in_vault python3 -c '
import os, sys
d = "/home/.splq-vault/current/r"
for f in os.listdir(d):
    b = open(os.path.join(d, f), "rb").read()
    if b[9] == 1 and b[44:45] == sys.argv[1].encode():
        print(f)' "$1"
}

# tamper CMD: a shell command run in the vault's current generation as
# root; then the retrieval of secret a must fail with 86, printing nothing.
tamper_refused() {
	in_vault sh -c "cd /home/.splq-vault/current && $1"
	run --separate-stderr "$SPLQ" vault retrieve --qube v "${2:-a}"
	assert_status 86
	[ -z "$output" ]
	[[ $stderr == *"$3"* ]]
}

@test "vault: a changed byte, a changed nonce, swapped, renamed and rolled-back records are refused" {
	printf 'first-%s' "$MARK" | "$SPLQ" vault store --qube v a
	printf 'other-%s' "$MARK" | "$SPLQ" vault store --qube v b
	in_vault sh -c 'cd /home/.splq-vault/current && mkdir -p /root/keep && cp -a . /root/keep/'
	rec_a=$(record_of a)
	rec_b=$(record_of b)
	[ -n "$rec_a" ] && [ -n "$rec_b" ]
	restore="rm -rf ./* && cp -a /root/keep/. ."
	# one ciphertext byte
	tamper_refused "python3 -c 'import sys; p=\"r/$rec_a\"; b=bytearray(open(p,\"rb\").read()); b[50]^=1; open(p,\"wb\").write(b)'" a "does not authenticate"
	in_vault sh -c "cd /home/.splq-vault/current && $restore"
	[ "$("$SPLQ" vault retrieve --qube v a)" = "first-$MARK" ]
	# the nonce
	tamper_refused "python3 -c 'import sys; p=\"r/$rec_a\"; b=bytearray(open(p,\"rb\").read()); b[35]^=1; open(p,\"wb\").write(b)'" a "does not authenticate"
	in_vault sh -c "cd /home/.splq-vault/current && $restore"
	# swapped: a's file holds b's record
	tamper_refused "cp r/$rec_b r/$rec_a" a "another name's"
	in_vault sh -c "cd /home/.splq-vault/current && $restore"
	# renamed: a's record moved away
	tamper_refused "mv r/$rec_a r/000000000000000000000000" a "cannot open"
	in_vault sh -c "cd /home/.splq-vault/current && $restore"
	# rolled back: version 2 stored, version 1's record put back in its place
	printf 'second-%s' "$MARK" | "$SPLQ" vault store --qube v a
	new_a=$(record_of a)
	tamper_refused "cp /root/keep/r/$rec_a r/$new_a" a "rolled back"
	# and the whole index rolled back with it: the old record is gone
	tamper_refused "cp /root/keep/index index" a "cannot open"
	in_vault rm -rf /root/keep
	assert_no_plaintext
}

@test "vault: a vault has no netvm (init refuses a qube with one, prefs refuses to give it one); bad names and key files" {
	make_qube net t --prop provides_network=True
	make_qube w t --prop netvm=net
	run "$SPLQ" vault init w --scrypt-cost 10
	assert_status 68
	[[ $output == *"qube 'w' has netvm 'net': a vault has no network"* ]]
	run "$SPLQ" features w
	[[ $output != *vault* ]]
	run "$SPLQ" prefs v netvm net
	assert_status 69
	[[ $output == *"qube 'v' is a vault: it has no netvm"* ]]
	# a later default_netvm does not reach it either
	splq prefs dom0 default_netvm net
	[ "$("$SPLQ" prefs v netvm)" = "" ]
	run "$SPLQ" vault init v --scrypt-cost 10
	assert_status 67
	# not a vault; no such qube; a bad name
	run "$SPLQ" vault list --qube net
	assert_status 68
	[[ $output == *"qube 'net' is not a vault (splq vault init net)"* ]]
	run "$SPLQ" vault list --qube nosuch
	assert_status 66
	run "$SPLQ" vault store --qube v '../x' </dev/null
	assert_status 65
	run "$SPLQ" vault store --qube v ''  </dev/null
	assert_status 65
	# key files: too short for a seal, too long to read whole
	head -c 31 /dev/urandom >"$BATS_TEST_TMPDIR/short"
	head -c 4097 /dev/urandom >"$BATS_TEST_TMPDIR/long"
	run "$SPLQ" vault passwd v --key-file "$BATS_TEST_TMPDIR/short"
	assert_status 69
	[[ $output == *"a key file needs at least 32 bytes, not 31"* ]]
	run "$SPLQ" vault passwd v --key-file "$BATS_TEST_TMPDIR/long"
	assert_status 69
	[[ $output == *"has more than 4096 bytes"* ]]
	# the passphrase still opens it
	"$SPLQ" vault lock v
	run "$SPLQ" vault unlock v
	assert_status 0
}

@test "vault: another qube gets a secret only where the policy allows, and learns nothing otherwise" {
	printf '%s' "$MARK" | "$SPLQ" vault store --qube v token
	printf 'x' | "$SPLQ" vault store --qube v other
	make_qube c
	# the default policy asks; with no one to answer, refused
	run --separate-stderr "$SPLQ" run c -- qrexec-client-vm v splq.VaultGet+token </dev/null
	assert_status 126
	[ -z "$output" ]
	# one secret allowed to c
	policy 'splq.VaultGet +token c v allow'
	run --separate-stderr "$SPLQ" run c -- qrexec-client-vm v splq.VaultGet+token </dev/null
	assert_status 0
	[ "$output" = "$MARK" ]
	# another secret, one that exists and one that does not: the same refusal
	run --separate-stderr "$SPLQ" run c -- qrexec-client-vm v splq.VaultGet+other </dev/null
	assert_status 126
	a_out=$output a_err=$stderr
	run --separate-stderr "$SPLQ" run c -- qrexec-client-vm v splq.VaultGet+nosuch </dev/null
	assert_status 126
	[ "$output" = "$a_out" ] && [ "$stderr" = "$a_err" ]
	# nor may it store, list or unlock
	for s in splq.VaultStore+token splq.VaultList splq.VaultUnlock splq.VaultLock; do
		run "$SPLQ" run c -- qrexec-client-vm v "$s" </dev/null
		assert_status 126
	done
	# every access is in the audit log: who, which secret, allowed or not; never the value
	run "$SPLQ" audit log --qube c
	[[ $output == *"c -> v splq.VaultGet+token"* ]]
	[[ $output == *"\"allow target=v"*"c -> v splq.VaultGet+token"* ]]
	[[ $output == *"deny"*"c -> v splq.VaultGet+other"* ]]
	assert_no_plaintext
}

@test "vault: kill -9 of the vault in the middle of a store leaves the previous version whole" {
	printf 'old-%s' "$MARK" | "$SPLQ" vault store --qube v s
	head -c 33554432 /dev/urandom >"$BATS_TEST_TMPDIR/new"
	for delay in 0.05 0.2 0.4 0.8; do
		"$SPLQ" vault store --qube v s --from-file "$BATS_TEST_TMPDIR/new" &
		pid=$!
		sleep "$delay"
		# the agent, and the service feeding it, killed at once
		in_vault sh -c 'for p in /proc/[0-9]*; do
			case $(tr "\0" " " <$p/cmdline 2>/dev/null) in *"splq.Va""ult"*) kill -9 ${p#/proc/};; esac
		done' || true
		wait "$pid" || true
		# the agent gone for good (a dying one still holds its socket)
		wait_for 50 in_vault sh -c '! cat /proc/[0-9]*/comm 2>/dev/null | grep -qx splq-vault'
		"$SPLQ" vault unlock v >/dev/null
		got=$("$SPLQ" vault retrieve --qube v s | head -c 40 | tr -d '\0' | cut -c1-4)
		# the old version, or the whole new one
		if [ "$got" != old- ]; then
			"$SPLQ" vault retrieve --qube v s | cmp - "$BATS_TEST_TMPDIR/new"
			printf 'old-%s' "$MARK" | "$SPLQ" vault store --qube v s
		fi
	done
	[ "$("$SPLQ" vault retrieve --qube v s)" = "old-$MARK" ]
	rm -f "$BATS_TEST_TMPDIR/new"
	assert_no_plaintext
}

@test "vault: rotate encrypts every record again under a new master key" {
	printf '%s' "$MARK" | "$SPLQ" vault store --qube v a
	printf 'b' | "$SPLQ" vault store --qube v b
	"$SPLQ" vault keygen --qube v k >"$BATS_TEST_TMPDIR/k.pub"
	before=$(in_vault sh -c 'readlink /home/.splq-vault/current; ls /home/.splq-vault/current/r')
	run "$SPLQ" vault rotate v
	assert_status 0
	after=$(in_vault sh -c 'readlink /home/.splq-vault/current; ls /home/.splq-vault/current/r')
	[ "$(head -1 <<<"$before")" = g1 ] && [ "$(head -1 <<<"$after")" = g2 ]
	[ "$(comm -12 <(sort <<<"$before") <(sort <<<"$after"))" = "" ]
	in_vault test ! -e /home/.splq-vault/g1
	[ "$("$SPLQ" vault retrieve --qube v a)" = "$MARK" ]
	"$SPLQ" vault lock v
	run "$SPLQ" vault unlock v
	assert_status 0
	[ "$("$SPLQ" vault retrieve --qube v b)" = b ]
	# the key still signs as itself
	echo data >"$BATS_TEST_TMPDIR/f"
	"$SPLQ" sign --vault v --key k "$BATS_TEST_TMPDIR/f" >/dev/null
	minisign -V -p "$BATS_TEST_TMPDIR/k.pub" -m "$BATS_TEST_TMPDIR/f"
	SPLQ_VAULT_PASSPHRASE=wrong run "$SPLQ" vault rotate v
	assert_status 85
}

@test "sign: a key made in the vault signs a file; minisign -V checks it, splq verify checks minisign's" {
	run "$SPLQ" vault keygen --qube v release
	assert_status 0
	[[ ${lines[0]} == "untrusted comment: minisign public key "* ]]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/release.pub"
	[ "$("$SPLQ" vault pubkey --qube v release)" = "$(cat "$BATS_TEST_TMPDIR/release.pub")" ]
	f=$BATS_TEST_TMPDIR/pkg.tar
	head -c 100000 /dev/urandom >"$f"
	run "$SPLQ" sign --vault v --key release -t 'release 0.7.0' "$f"
	assert_status 0
	[ "$output" = "$f.minisig" ]
	run minisign -V -p "$BATS_TEST_TMPDIR/release.pub" -m "$f"
	assert_status 0
	[[ $output == *"Trusted comment: release 0.7.0"* ]]
	run "$SPLQ" verify --pubkey "$BATS_TEST_TMPDIR/release.pub" "$f"
	assert_status 0
	[ "${lines[1]}" = "Trusted comment: release 0.7.0" ]
	# a changed file fails both
	cp "$f" "$f.orig"
	printf x >>"$f"
	run minisign -V -p "$BATS_TEST_TMPDIR/release.pub" -m "$f"
	[ "$status" -ne 0 ]
	run "$SPLQ" verify --pubkey "$BATS_TEST_TMPDIR/release.pub" "$f"
	assert_status 83
	cp "$f.orig" "$f"
	# a changed trusted comment fails both
	sed -i 's/^trusted comment: release 0.7.0$/trusted comment: release 0.7.1/' "$f.minisig"
	run minisign -V -p "$BATS_TEST_TMPDIR/release.pub" -m "$f"
	[ "$status" -ne 0 ]
	run "$SPLQ" verify --pubkey "$BATS_TEST_TMPDIR/release.pub" "$f"
	assert_status 83
	# minisign's own signatures, prehashed and legacy
	minisign -G -W -p "$BATS_TEST_TMPDIR/m.pub" -s "$BATS_TEST_TMPDIR/m.key" >/dev/null
	minisign -S -s "$BATS_TEST_TMPDIR/m.key" -m "$f" -t 'made by minisign' >/dev/null
	run "$SPLQ" verify --pubkey "$BATS_TEST_TMPDIR/m.pub" "$f"
	assert_status 0
	[ "${lines[1]}" = "Trusted comment: made by minisign" ]
	minisign -S -l -s "$BATS_TEST_TMPDIR/m.key" -m "$f" -t legacy >/dev/null
	run "$SPLQ" verify -P "$(tail -1 "$BATS_TEST_TMPDIR/m.pub")" "$f"
	assert_status 0
	printf x >>"$f"
	run "$SPLQ" verify --pubkey "$BATS_TEST_TMPDIR/m.pub" "$f"
	assert_status 83
	# the wrong key
	run "$SPLQ" verify --pubkey "$BATS_TEST_TMPDIR/release.pub" "$f"
	assert_status 83
	# the secret key is nowhere but the vault: a key is no secret to retrieve
	run "$SPLQ" vault retrieve --qube v release
	assert_status 66
}

@test "sign: a qube signs through splq.Sign+KEY where the policy allows it, only the hash crossing" {
	"$SPLQ" vault keygen --qube v rel >"$BATS_TEST_TMPDIR/rel.pub"
	make_qube c
	policy 'splq.Sign +rel c v allow'
	run --separate-stderr "$SPLQ" run c -- sh -c 'head -c 5000 /dev/urandom >f && splq-sign -t "signed from c" v rel f'
	assert_status 0
	[ "$output" = f.minisig ]
	"$SPLQ" run c cat f >"$BATS_TEST_TMPDIR/f"
	"$SPLQ" run c cat f.minisig >"$BATS_TEST_TMPDIR/f.minisig"
	run minisign -V -p "$BATS_TEST_TMPDIR/rel.pub" -m "$BATS_TEST_TMPDIR/f"
	assert_status 0
	[[ $output == *"Trusted comment: signed from c"* ]]
	# what crossed into the vault: the service's own request, 64 bytes of hash
	# and two comments, as a raw call shows
	run --separate-stderr "$SPLQ" run c -- sh -c 'printf "\000\000\000\003abc" | qrexec-client-vm v splq.Sign+rel'
	assert_status 69
	[[ $stderr == *"fields"* ]]
	# another key: refused, and no signature file is left
	run "$SPLQ" run c -- splq-sign v other f
	assert_status 126
	run "$SPLQ" run c -- sh -c 'ls f*'
	[ "$output" = "$(printf 'f\nf.minisig')" ]
}

@test "audit seal: a history rewritten before a seal fails verify, even with its chain computed again" {
	"$SPLQ" vault keygen --qube v audit >"$BATS_TEST_TMPDIR/audit.pub"
	splq create w2 --template t
	run "$SPLQ" audit seal --vault v --key audit
	assert_status 0
	[[ $output == "audit log sealed at entry "* ]]
	run "$SPLQ" audit verify --pubkey "$BATS_TEST_TMPDIR/audit.pub"
	assert_status 0
	[[ $output == *", 1 seal checked" ]]
	# without --pubkey, the seal's key comes from its vault
	run "$SPLQ" audit verify
	assert_status 0
	# rewrite entry 2 and compute every prev and the store's head again
	python3 - "$SPLQ_HOME" <<'EOF'
import hashlib, json, sqlite3, sys
home = sys.argv[1]
lines = open(home + "/audit.log", "rb").read().split(b"\n")[:-1]
e = json.loads(lines[1])
e["args"] = "rewritten"
lines[1] = json.dumps(e, separators=(",", ":")).encode()
for i in range(2, len(lines)):
    e = json.loads(lines[i])
    e["prev"] = hashlib.sha256(lines[i - 1]).hexdigest()
    lines[i] = json.dumps(e, separators=(",", ":")).encode()
open(home + "/audit.log", "wb").write(b"".join(l + b"\n" for l in lines))
db = sqlite3.connect(home + "/splq.db")
db.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (hashlib.sha256(lines[-1]).hexdigest(),))
db.commit()
EOF
	run "$SPLQ" audit verify --pubkey "$BATS_TEST_TMPDIR/audit.pub"
	assert_status 76
	[[ $output == *"does not match the log (history rewritten before the seal)"* ]]
}

@test "vault: a passphrase asked on the terminal is not echoed; a value shown on a terminal cannot drive it" {
	"$SPLQ" vault lock v
	unset SPLQ_VAULT_PASSPHRASE
	run python3 "$BATS_TEST_DIRNAME/ptyrun.py" --steps \
		'[{"expect": "Passphrase of vault .v.: ", "timeout": 20}, {"send": "correct horse battery staple\n"}, {"expect": "is unlocked", "timeout": 20}]' \
		-- "$SPLQ" vault unlock v
	assert_status 0
	[ "$(json_get exit)" = 0 ] && [ "$(json_get failed)" = null ]
	[[ $(json_get output) != *"horse"* ]]
	[ "$(json_get attrs_same)" = true ]
	# no terminal and no other source: a clear refusal
	"$SPLQ" vault lock v
	run setsid "$SPLQ" vault unlock v </dev/null
	assert_status 64
	[[ $output == *"no passphrase: no terminal to ask on"* ]]
	SPLQ_VAULT_PASSPHRASE='correct horse battery staple' "$SPLQ" vault unlock v
	printf 'a\033]0;owned\007b' | "$SPLQ" vault store --qube v esc
	run python3 "$BATS_TEST_DIRNAME/ptyrun.py" -- "$SPLQ" vault retrieve --qube v esc
	assert_status 0
	# no escape reaches the terminal (a bell may, as qvm-run lets it)
	[ "$(json_get output)" = "$(printf 'a_]0;owned\007b')" ]
	# not a terminal: the bytes as they are
	[ "$("$SPLQ" vault retrieve --qube v esc | od -An -c | tr -s ' ')" = "$(printf 'a\033]0;owned\007b' | od -An -c | tr -s ' ')" ]
}
