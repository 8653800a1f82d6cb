#!/usr/bin/env bats
# shellcheck disable=SC2154  # status, output, lines: set by run
# shellcheck disable=SC2030,SC2031  # bats runs a test and its teardown in one shell
# shellcheck disable=SC2016  # the $ in single quotes is for the qube's shell
# splq: what a qube can leave in its volumes for host-side copies and walks
# (clone, a TemplateVM's next root generation, a disposable's copy of its
# dvm's private volume, remove, the clean-up of runtime folders).  Every
# tree is made from INSIDE a qube, as its root: sparse files, many hard
# links, a file swapped for a fifo all the while, a tree 3000 directories
# deep, links to host paths.  The checks are what a user sees: the disk use
# of the store, how long commands take, what is left behind, what the qube
# sees afterwards.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
}

teardown() {
	teardown_splq
}

# Disk use (KiB) of a directory of the store.
disk_kib() {
	du -sk "$1" | cut -f1
}

# splq with at most 1024 descriptors and at most LIMIT seconds.
bounded_splq() {
	local limit=$1
	shift
	(
		ulimit -n 1024
		timeout "$limit" "$SPLQ" "$@"
	)
}

# In a qube: how deep the chain of directories "d" below DIR goes, and
# what the file "leaf" at its end says (the path is longer than PATH_MAX:
# it is walked by relative chdir).
deep_count='import os, sys
os.chdir(sys.argv[1])
n = 0
while os.path.isdir("d"):
    os.chdir("d")
    n += 1
print(n)
print(open("leaf").read() if os.path.exists("leaf") else "no leaf")'

# In a qube: a chain of 3000 directories "d" below each argument, a file
# "leaf" at the end of each.
deep_make='import os, sys
for top in sys.argv[1:]:
    os.chdir(top)
    for i in range(3000):
        os.mkdir("d")
        os.chdir("d")
    open("leaf", "w").write("bottom")'

@test "clone: a sparse 1 GiB file and 20 links to a 1 MiB file take no more room in the clone" {
	make_host_template t
	splq create q -t t
	in_root q sh -c 'cd /home/user && truncate -s 1G sparse &&
		head -c 1048576 /dev/urandom >f && for i in $(seq 1 20); do ln f l$i; done && sync'
	splq shutdown --wait q
	local before after
	before=$(disk_kib "$SPLQ_HOME/qubes/q")

	run --separate-stderr bounded_splq 120 clone q q2
	assert_status 0
	after=$(disk_kib "$SPLQ_HOME/qubes/q2")
	if ((after > before + 4096)); then
		echo "the clone takes $after KiB, its source $before KiB" >&2
		return 1
	fi

	# the clone sees the same files: 1 GiB, 21 links of one file, same bytes
	run --separate-stderr splq run q2 -- sh -c 'cd /home/user &&
		stat -c "%s %h" sparse f && [ "$(stat -c %i f)" = "$(stat -c %i l20)" ] &&
		echo linked && sha256sum <f'
	assert_status 0
	[ "${lines[0]}" = "1073741824 1" ]
	[ "${lines[1]}" = "1048576 21" ]
	[ "${lines[2]}" = linked ]
	local sum
	sum=$(splq run q -- sh -c 'sha256sum </home/user/f')
	[ "${lines[3]}" = "$sum" ]
	splq shutdown --wait q q2
	assert_leftovers_none
}

@test "template: a sparse 1 GiB file in a TemplateVM's root does not make its next generation 1 GiB" {
	make_host_template t
	in_root t sh -c 'truncate -s 1G /sparse && head -c 4096 /dev/urandom >>/sparse && sync'
	splq shutdown --wait t
	local before after
	before=$(disk_kib "$SPLQ_HOME/templates/t")

	# the next start makes a new generation of the root from this one
	run --separate-stderr bounded_splq 120 start t
	assert_status 0
	run --separate-stderr in_root t stat -c %s /sparse
	assert_status 0
	[ "$output" = $((1073741824 + 4096)) ]
	splq shutdown --wait t
	after=$(disk_kib "$SPLQ_HOME/templates/t")
	if ((after > before + 65536)); then
		echo "the template's roots grew from $before KiB to $after KiB" >&2
		return 1
	fi
	assert_leftovers_none
}

# In qube Q, as root, in the background: swap /home/user/f and
# /home/user/p (RENAME_EXCHANGE) for ever.  Not through bats' run: the
# loop would keep its output pipe open.
start_swapper() {
	"$SPLQ" run --no-wait --user root "$1" -- python3 -c 'import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
os.chdir("/home/user")
while True:
    libc.renameat2(-100, b"f", -100, b"p", 2)  # RENAME_EXCHANGE' \
		</dev/null >/dev/null 2>&1
}

@test "dispvm: a dvm swapping a file and a fifo all the while does not make splq block, nothing is left" {
	make_host_template t
	splq create dvm -t t --prop template_for_dispvms=True
	in_root dvm sh -c 'cd /home/user && echo data >f && mkfifo p && chown user f p'
	# two swappers
	start_swapper dvm
	start_swapper dvm

	# the swapping runs: f is seen as both kinds
	run --separate-stderr splq run dvm -- sh -c \
		'for i in $(seq 1 200); do stat -c %F /home/user/f; done | sort -u'
	assert_status 0
	[[ $output == *fifo* ]]
	[[ $output == *"regular file"* ]]

	# (a copy that opened what it found as a file blocked in about one
	# disposable in six here)
	# (not a counter loop: bats' own functions set a global i)
	local round ok=0 changed=0 t0 t1 runtime
	for round in $(seq 1 30); do
		t0=$(date +%s)
		run --separate-stderr timeout 60 "$SPLQ" dispvm --template dvm -- \
			sh -c 'for e in f p; do if [ -p /home/user/$e ]; then echo fifo; elif [ -e /home/user/$e ]; then cat /home/user/$e; else echo none; fi; done'
		t1=$(date +%s)
		if [ "$status" -eq 124 ]; then
			echo "splq dispvm $round blocked (killed after 60 s)" >&2
			return 1
		fi
		# it ran with what it copied, or said an entry kept changing
		if [ "$status" -eq 0 ]; then
			ok=$((ok + 1))
			[[ $output =~ ^(fifo|data|none)$'\n'(fifo|data|none)$ ]]
		else
			assert_status 68
			[[ $stderr == *"keeps changing"* ]]
			changed=$((changed + 1))
		fi
		((t1 - t0 < 30))
		# no runtime folder of a disposable is left behind
		runtime=$(ls -A "$SPLQ_RUN/qubes")
		if [ "$runtime" != dvm ]; then
			printf 'left behind in %s: %s\n' "$SPLQ_RUN/qubes" "$runtime" >&2
			return 1
		fi
	done
	echo "# $ok ran, $changed refused" >&3
	assert_leftovers_none dvm
	splq kill dvm
	assert_leftovers_none
}

@test "a tree 3000 directories deep in /home and /tmp: shutdown, clone, dispvm and remove under ulimit -n 1024, the qube starts again" {
	make_host_template t
	splq create dvm -t t --prop template_for_dispvms=True
	run --separate-stderr bounded_splq 120 run --user root dvm -- python3 -c "$deep_make" \
		/home/user /tmp
	assert_status 0
	run --separate-stderr bounded_splq 120 shutdown --wait dvm
	assert_status 0
	# the volatile layer (its /tmp) went with the runtime folder
	[ ! -e "$SPLQ_RUN/qubes/dvm" ]

	run --separate-stderr bounded_splq 120 clone dvm c
	assert_status 0
	run --separate-stderr bounded_splq 120 dispvm --template dvm -- \
		python3 -c "$deep_count" /home/user
	assert_status 0
	[ "$output" = "3000
bottom" ]
	assert_leftovers_none

	run --separate-stderr bounded_splq 120 run c -- python3 -c "$deep_count" /home/user
	assert_status 0
	[ "$output" = "3000
bottom" ]
	splq shutdown --wait c
	run --separate-stderr bounded_splq 120 remove c
	assert_status 0
	[ ! -e "$SPLQ_HOME/qubes/c" ]

	# the dvm itself starts again, its tree intact and /tmp empty
	run --separate-stderr bounded_splq 120 run dvm -- python3 -c "$deep_count" /home/user
	assert_status 0
	[ "$output" = "3000
bottom" ]
	run --separate-stderr splq run dvm -- ls -A /tmp
	assert_status 0
	[ -z "$output" ]
	splq shutdown --wait dvm
	run --separate-stderr bounded_splq 120 remove dvm
	assert_status 0
	[ ! -e "$SPLQ_HOME/qubes/dvm" ]
	run --separate-stderr splq ls
	[[ $output != *dvm* ]]
	assert_leftovers_none
}

@test "clone: links to host paths in /home stay links in the clone and are never followed" {
	make_host_template t
	splq create q -t t
	in_root q sh -c 'cd /home/user && ln -s /etc/shadow shadow && ln -s / hostroot &&
		ln -s ../../../../../../../../etc up && ln -s /proc/self/root/etc proc'
	splq shutdown --wait q
	local before after
	before=$(disk_kib "$SPLQ_HOME/qubes/q")

	run --separate-stderr bounded_splq 60 clone q q2
	assert_status 0
	after=$(disk_kib "$SPLQ_HOME/qubes/q2")
	((after <= before + 1024))
	run --separate-stderr splq run --user root q2 -- sh -c \
		'for l in shadow hostroot up proc; do test -L /home/user/$l && readlink /home/user/$l; done'
	assert_status 0
	[ "$output" = "/etc/shadow
/
../../../../../../../../etc
/proc/self/root/etc" ]
	splq shutdown --wait q2
	assert_leftovers_none
}
