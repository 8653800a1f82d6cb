#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016  # run sets status etc.; $VARS: expanded in the qube
# splq: network qubes.  Each test builds its own "internet" on this
# machine: a network namespace UP (the uplink sys-net lives in) joined by
# a veth pair to a namespace INET that holds the test servers on
# documentation addresses: HTTP on 198.51.100.10:80 and :8080, on
# [2001:db8:100::10]:80 and on 198.51.100.11:80, UDP on :9999 of both .10
# and 2001:db8:100::10 (writing what comes to $WWW/udp), a DNS server (dnsmasq)
# on 198.51.100.53 for example.test: www.example.test is .10 and
# 2001:db8:100::10, other.example.test is .11, no other name exists.  Nothing
# leaves the machine; teardown removes the namespaces and ends the
# servers it started, by pid.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	make_host_template t
	UP=splqt-up-$$-$BATS_TEST_NUMBER
	INET=splqt-in-$$-$BATS_TEST_NUMBER
	BG_PIDS=()
}

teardown() {
	teardown_splq
	kill_bg_pids
	ip netns del "$UP" 2>/dev/null
	ip netns del "$INET" 2>/dev/null
	rm -rf "/etc/netns/$UP" "${WWW:-}"
	return 0
}

# The test internet (see above), sys-net in UP as its uplink.
make_internet() {
	splq_test_internet "$UP" "$INET"
	mkdir -p "/etc/netns/$UP"
	echo "nameserver 198.51.100.53" >"/etc/netns/$UP/resolv.conf"
	WWW=$(mktemp -d /tmp/splq-test-www.XXXXXX)
	echo "hello from the test internet" >"$WWW/index.html"
	local at
	for at in 198.51.100.10:80 198.51.100.10:8080 198.51.100.11:80 2001:db8:100::10:80; do
		ip netns exec "$INET" python3 -m http.server --bind "${at%:*}" \
			--directory "$WWW" "${at##*:}" >/dev/null 2>&1 &
		BG_PIDS+=($!)
	done
	# UDP on 9999: each datagram a line of $WWW/udp
	for at in 198.51.100.10 2001:db8:100::10; do
		ip netns exec "$INET" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9999))
while True:
    with open(sys.argv[2], "a") as f:
        f.write(s.recv(64).decode() + "\n")' "$at" "$WWW/udp" >/dev/null 2>&1 &
		BG_PIDS+=($!)
	done
	ip netns exec "$INET" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
		--listen-address=198.51.100.53 --local=/example.test/ \
		--address=/www.example.test/198.51.100.10 --address=/www.example.test/2001:db8:100::10 \
		--address=/other.example.test/198.51.100.11 --pid-file= >/dev/null 2>&1 &
	BG_PIDS+=($!)
	wait_for 100 ip netns exec "$INET" python3 -c '
import socket
for a in (("198.51.100.10", 80), ("198.51.100.10", 8080), ("198.51.100.11", 80),
          ("2001:db8:100::10", 80)):
    socket.create_connection(a, timeout=1).close()' 2>/dev/null
}

# sys-net (in UP) and a client work of it.
make_net() {
	make_internet
	splq create sys-net --template t --prop provides_network=True --prop "uplink=netns:$UP"
	splq create work --template t --prop netvm=sys-net
}

# GET URL from qube Q: prints the body, or fails.
GET='import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode().strip())'
get() {
	splq run "$1" -- python3 -c "$GET" "$2"
}

# A UDP datagram WORD to port 9999 of SERVER, from source address SOURCE
# (the test internet's UDP servers write what they get to $WWW/udp).
SEND_FROM='import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(sys.argv[3].encode(), (sys.argv[2], 9999))'

# An ICMP echo from qube Q to ADDRESS (an ICMP socket, as ping uses):
# fails without an answer within 2 s.
PING='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
s.settimeout(2)
s.sendto(b"\x08\x00\x00\x00\x00\x01\x00\x01splq", (sys.argv[1], 0))
print(s.recv(64)[0])'
ping_from() {
	splq run "$1" -- python3 -c "$PING" "$2"
}

@test "network: none: a qube without a netvm has only lo and reaches nothing" {
	make_internet
	make_qube q
	splq start q
	run --separate-stderr splq run q -- ls /sys/class/net
	[ "$output" = lo ]
	run ! get q http://198.51.100.10/
	run --separate-stderr splq prefs q ip
	[ "$output" = "" ]
}

@test "network: full: a client of sys-net reaches the test server by address and by name, with Qubes' addresses" {
	make_net
	# starting the client starts its netvm first
	splq start work
	state_is sys-net Running
	run --separate-stderr get work http://198.51.100.10/
	assert_status 0
	[ "$output" = "hello from the test internet" ]
	run --separate-stderr get work http://www.example.test:8080/
	assert_status 0
	[ "$output" = "hello from the test internet" ]
	# the qube has the addresses its properties name
	local ip gw
	ip=$(splq prefs work ip)
	gw=$(splq prefs work visible_gateway)
	[ "$gw" = "$(splq prefs sys-net gateway)" ]
	[[ $ip == 10.137.* ]]
	run --separate-stderr splq run work -- ip -4 -o addr show dev eth0
	[[ $output == *"inet $ip/32 "* ]]
	run --separate-stderr splq run work -- ip route show default
	[[ $output == "default via $gw dev eth0"* ]]
	run --separate-stderr splq run work -- cat /sys/class/net/eth0/address
	[ "$output" = "$(splq prefs work mac)" ]
	run --separate-stderr splq run work -- cat /etc/resolv.conf
	[ "${lines[0]}" = "nameserver 10.139.1.1" ]
	[ "${lines[1]}" = "nameserver 10.139.1.2" ]
	# IPv6 too: Qubes' address, a default route, the server by address
	local ip6
	ip6=$(splq prefs work ip6)
	[[ $ip6 == fd09:24ef:4179::a89:* ]]
	run --separate-stderr splq run work -- ip -6 -o addr show dev eth0 scope global
	[[ $output == *"inet6 $ip6/128 "* ]]
	run --separate-stderr splq run work -- ip -6 route show default
	[[ $output == "default via $(splq prefs work visible_gateway6) dev eth0"* ]]
	run --separate-stderr get work "http://[2001:db8:100::10]/"
	assert_status 0
	[ "$output" = "hello from the test internet" ]
}

@test "network: sys-firewall in front of sys-net; two clients of one netvm cannot reach each other" {
	make_internet
	splq create sys-net --template t --prop provides_network=True --prop "uplink=netns:$UP"
	splq create sys-firewall --template t --prop provides_network=True --prop netvm=sys-net
	splq prefs dom0 default_netvm sys-firewall
	# new qubes take dom0's default_netvm
	splq create a --template t
	splq create b --template t
	[ "$(splq prefs a netvm)" = sys-firewall ]
	splq start a
	splq start b
	run --separate-stderr get a http://www.example.test/
	assert_status 0
	[ "$output" = "hello from the test internet" ]
	# b serves on its address; a's packets to it are dropped in the netvm
	local bip
	bip=$(splq prefs b ip)
	splq run --no-wait b -- python3 -m http.server --bind "$bip" 8000
	wait_for 50 splq run b -- python3 -c "import socket; socket.create_connection(('$bip', 8000), timeout=1)" 2>/dev/null
	run ! splq run a -- python3 -c "import socket; socket.create_connection(('$bip', 8000), timeout=2)"
	run ! ping_from a "$bip"
	# the gateway answers ping
	run --separate-stderr ping_from a "$(splq prefs a visible_gateway)"
	assert_status 0
	[ "$output" = 0 ] # an echo reply
	# a new default_netvm moves the running qubes that follow it, at once
	splq prefs dom0 default_netvm sys-net
	[ "$(splq prefs a visible_gateway)" = "$(splq prefs sys-net gateway)" ]
	run --separate-stderr splq run a -- ip route show default
	[[ $output == "default via $(splq prefs sys-net gateway) dev eth0"* ]]
	get a http://198.51.100.10/
	splq prefs dom0 default_netvm ''
	run --separate-stderr splq run b -- ls /sys/class/net
	[ "$output" = lo ]
}

@test "network: a running qube's netvm changes live; a netvm stays up under clients unless --force" {
	make_net
	splq start work
	get work http://198.51.100.10/
	splq prefs work netvm ''
	run --separate-stderr splq run work -- ls /sys/class/net
	[ "$output" = lo ]
	run ! get work http://198.51.100.10/
	splq prefs work netvm sys-net
	get work http://198.51.100.10/
	run -68 --separate-stderr splq shutdown sys-net
	[[ $stderr == *"qube 'sys-net' is the netvm of running qubes: work"*"--force"* ]]
	splq shutdown --force --wait sys-net
	run ! get work http://198.51.100.10/
	# a halted netvm is not taken on live
	run -68 --separate-stderr splq prefs work netvm sys-net
	[[ $stderr == *"netvm 'sys-net' of 'work' is not running"* ]]
	run -68 --separate-stderr splq remove sys-net
	[[ $stderr == *"qube 'sys-net' is still used by: work"* ]]
}

@test "network: from inside, as root: a client and sys-net cannot change addresses, routes or rules" {
	make_net
	splq start work
	local ip
	ip=$(splq prefs work ip)
	# a client's root: no new address (a forged source), no route change,
	# no raw socket to forge packets with
	run ! splq run --user root work -- ip addr add 10.137.0.99/32 dev eth0
	run ! splq run --user root work -- ip route del default
	run ! splq run --user root work -- ip link set eth0 address 00:16:3e:00:00:01
	run ! splq run --user root work -- python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)'
	run ! splq run --user root work -- python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'
	run --separate-stderr splq run work -- ip -4 -o addr show dev eth0
	[[ $output == *"inet $ip/32 "* ]]
	# sys-net's root: the rules cannot be listed, flushed or changed
	run ! splq run --user root sys-net -- nft list ruleset
	run ! splq run --user root sys-net -- nft flush ruleset
	run ! splq run --user root sys-net -- sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
	run ! splq run --user root sys-net -- ip route del default
	ip netns exec "$UP" nft list table inet splq >/dev/null
	get work http://198.51.100.10/
	# had its root a way past all that (the host plays it, in the
	# client's network namespace): what it sends from a forged source
	# address, or another MAC, does not leave the netvm
	local init
	init=$(cat "$SPLQ_RUN/qubes/work/init.pid")
	nsenter -t "$init" -n ip addr add 10.137.0.99/32 dev eth0
	nsenter -t "$init" -n ip -6 addr add fd09:24ef:4179::a89:99/128 dev eth0 nodad
	nsenter -t "$init" -n python3 -c "$SEND_FROM" 10.137.0.99 198.51.100.10 forged4
	nsenter -t "$init" -n python3 -c "$SEND_FROM" fd09:24ef:4179::a89:99 2001:db8:100::10 forged6
	nsenter -t "$init" -n ip link set eth0 address 00:16:3e:00:00:01
	nsenter -t "$init" -n python3 -c "$SEND_FROM" "$ip" 198.51.100.10 othermac
	nsenter -t "$init" -n ip link set eth0 address "$(splq prefs work mac)"
	nsenter -t "$init" -n python3 -c "$SEND_FROM" "$ip" 198.51.100.10 genuine
	wait_for 50 grep -q genuine "$WWW/udp"
	run cat "$WWW/udp"
	[ "$output" = genuine ]
}

@test "network: bad settings are refused, naming what is wrong, and nothing is set" {
	make_internet
	splq create sys-net --template t --prop provides_network=True --prop "uplink=netns:$UP"
	run -69 --separate-stderr splq create w --template t --prop netvm=t
	[[ $stderr == *"qube 't' cannot be a netvm: it has provides_network=False"* ]]
	run -66 --separate-stderr splq create w --template t --prop netvm=ghost
	[[ $stderr == *"netvm 'ghost': no such qube"* ]]
	run -69 --separate-stderr splq create w --template t --prop uplink=pasta --prop netvm=sys-net
	[[ $stderr == *"only a network qube without a netvm has an uplink"* ]]
	run -69 --separate-stderr splq create w --template t --prop uplink=slirp
	[[ $stderr == *"uplink 'slirp'"* ]]
	run -66 --separate-stderr splq prefs w
	splq create sys-fw --template t --prop provides_network=True --prop netvm=sys-net
	run -69 --separate-stderr splq prefs sys-net netvm sys-fw
	[[ $stderr == *"the netvms make a loop: sys-net -> sys-fw -> sys-net"* ]]
	[ "$(splq prefs sys-net netvm)" = "" ]
	run -69 --separate-stderr splq prefs sys-net provides_network False
	[[ $stderr == *"an uplink (uplink=netns:$UP) needs provides_network=True"* ]]
	splq create c --template t --prop netvm=sys-fw
	run -69 --separate-stderr splq prefs sys-fw provides_network False
	[[ $stderr == *"qube 'sys-fw' is the netvm of c"* ]]
	[ "$(splq prefs sys-fw provides_network)" = True ]
	run -69 --separate-stderr splq prefs dom0 default_netvm t
	# a missing uplink namespace: the start fails and leaves nothing
	splq create sys-x --template t --prop provides_network=True --prop uplink=netns:splqt-none-$$
	run -66 --separate-stderr splq start sys-x
	[[ $stderr == *"/run/netns/splqt-none-$$ is not a network namespace"* ]]
	assert_leftovers_none t sys-net sys-fw sys-x c
}

@test "network: teardown leaves nothing in the uplink namespace: after a stop, and after the supervisor was killed" {
	make_net
	local fwd
	fwd=$(ip netns exec "$UP" cat /proc/sys/net/ipv4/ip_forward)
	splq start work
	[ "$(ip netns exec "$UP" cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
	ip -n "$UP" -o link show | grep -q ' vif'
	splq shutdown --wait work
	# the client's link went with it
	run ! bash -c "ip -n $UP -o link show | grep ' vif'"
	splq shutdown --wait sys-net
	run ! ip netns exec "$UP" nft list table inet splq
	[ "$(ip netns exec "$UP" cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ]
	# a supervisor killed: the next start and stop put everything back
	splq start work
	kill -KILL "$(cat "$SPLQ_RUN/qubes/sys-net/supervisor.pid")"
	wait_for 100 state_is sys-net Halted
	splq start sys-net
	run ! bash -c "ip -n $UP -o link show | grep ' vif'"
	splq shutdown --force --wait sys-net
	splq kill work
	run ! ip netns exec "$UP" nft list table inet splq
	[ "$(ip netns exec "$UP" cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ]
	assert_leftovers_none t sys-net work
}

@test "network: a disposable has its dvm's netvm, or --netvm's; its link goes with it" {
	make_net
	splq prefs work template_for_dispvms True
	run --separate-stderr splq dispvm --template work -- python3 -c "$GET" http://198.51.100.10/
	assert_status 0
	[ "$output" = "hello from the test internet" ]
	run --separate-stderr splq dispvm --template work --netvm '' -- ls /sys/class/net
	assert_status 0
	[ "$output" = lo ]
	splq prefs work netvm ''
	run --separate-stderr splq dispvm --template work --netvm sys-net -- \
		sh -c 'ip -4 -o addr show dev eth0; python3 -c "$1" http://www.example.test/' _ "$GET"
	assert_status 0
	[[ ${lines[0]} == *"inet 10.138."* ]]
	[ "${lines[1]}" = "hello from the test internet" ]
	run -69 --separate-stderr splq dispvm --template work --netvm t -- true
	[[ $stderr == *"qube 't' cannot be a netvm"* ]]
	run ! bash -c "ip -n $UP -o link show | grep ' vif'"
	splq shutdown --wait sys-net
	assert_leftovers_none t sys-net work
}

@test "network: uplink pasta: a client reaches a server on host loopback through pasta's gateway; pasta lives as long as its qube" {
	command -v pasta >/dev/null || skip "pasta (passt) is not installed"
	# pasta copies the addresses and routes of the host's uplink
	[ -n "$(ip -4 route show default)" ] || skip "the host has no default route for pasta to copy"
	WWW=$(mktemp -d /tmp/splq-test-www.XXXXXX)
	echo "hello from host loopback" >"$WWW/index.html"
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$port" >/dev/null 2>&1 &
	BG_PIDS+=($!)
	splq create sys-net --template t --prop provides_network=True --prop uplink=pasta
	splq create work --template t --prop netvm=sys-net
	splq start work
	local pasta gw
	pasta=$(pgrep -P "$(cat "$SPLQ_RUN/qubes/sys-net/supervisor.pid")" -f "^pasta ")
	[ -n "$pasta" ]
	# pasta maps its gateway address to the host's loopback; nothing else
	# is asked of it (no names are resolved through it)
	gw=$(splq run sys-net -- ip -4 route show default | awk '{ print $3 }')
	[ -n "$gw" ]
	run --separate-stderr get work "http://$gw:$port/"
	assert_status 0
	[ "$output" = "hello from host loopback" ]
	splq shutdown --force --wait sys-net
	run ! kill -0 "$pasta"
	run ! get work "http://$gw:$port/"
	# and with a killed supervisor, pasta goes too
	splq start sys-net
	pasta=$(pgrep -P "$(cat "$SPLQ_RUN/qubes/sys-net/supervisor.pid")" -f "^pasta ")
	kill -KILL "$(cat "$SPLQ_RUN/qubes/sys-net/supervisor.pid")"
	wait_for 50 eval '! kill -0 '"$pasta"' 2>/dev/null'
	splq kill work
	assert_leftovers_none t sys-net work
}

@test "network: limited by firewall rules, enforced in the netvm: host and port, DNS only with specialtarget=dns, ICMP by type, expiry, live changes" {
	make_net
	splq start work
	# Qubes' default: one rule, accept
	run --separate-stderr splq firewall work list --raw
	[ "$output" = action=accept ]
	printf '%s\n' 'action=accept dsthost=198.51.100.10 proto=tcp dstports=80' \
		'action=accept proto=icmp icmptype=8' >"$BATS_TEST_TMPDIR/rules"
	# a running qube takes them at once
	splq firewall work set "$BATS_TEST_TMPDIR/rules"
	run --separate-stderr splq firewall work list
	[ "${lines[0]}" = "0   action=accept dst4=198.51.100.10/32 proto=tcp dstports=80-80" ]
	[ "${lines[1]}" = "1   action=accept proto=icmp icmptype=8" ]
	get work http://198.51.100.10/
	run ! get work http://198.51.100.10:8080/ # another port: dropped
	run ! get work http://www.example.test/   # no DNS without specialtarget=dns
	ping_from work 198.51.100.10              # echo requests: type 8
	splq firewall work add --before 0 action=accept specialtarget=dns
	run --separate-stderr get work http://www.example.test/
	assert_status 0
	[ "$output" = "hello from the test internet" ]
	# a rule that expires stops working, and leaves the list
	splq firewall work add action=accept dst4=198.51.100.10 proto=tcp dstports=8080 "expire=+3"
	get work http://198.51.100.10:8080/
	sleep 4
	run ! get work http://198.51.100.10:8080/
	run --separate-stderr splq firewall work list --raw
	[[ $output != *8080* ]]
	# del by number and by rule; the qube can neither see nor change them
	splq firewall work del 0
	run ! get work http://www.example.test/
	splq firewall work del action=accept proto=icmp icmptype=8
	run ! ping_from work 198.51.100.10
	run ! splq run --user root work -- nft list ruleset
	splq firewall work reset
	get work http://198.51.100.10:8080/
	# the log has every change
	run --separate-stderr splq audit log --qube work
	[[ $output == *"firewall work"*"add"*"specialtarget=dns"* ]]
	[[ $output == *"firewall work"*"reset"* ]]
}

@test "network: bad firewall rules are refused, naming the rule and the key, and nothing is applied" {
	make_net
	splq start work
	splq firewall work set - <<<'action=accept proto=tcp dstports=80'
	run -69 --separate-stderr splq firewall work add action=accept dstports=443
	[[ $stderr == *"dstports=443-443: only with proto=tcp or proto=udp"* ]]
	run -69 --separate-stderr splq firewall work add action=accept proto=tcp dstports=70000
	[[ $stderr == *"dstports=70000"* ]]
	run -69 --separate-stderr splq firewall work add action=accept icmptype=8
	[[ $stderr == *"icmptype=8: only with proto=icmp"* ]]
	run -69 --separate-stderr splq firewall work add action=accept colour=red
	[[ $stderr == *"unknown key 'colour'"* ]]
	run -69 --separate-stderr splq firewall work add action=accept comment=x proto=tcp
	run -69 --separate-stderr splq firewall work add 'action=accept dsthost=a;b'
	printf '%s\n' action=accept 'action=drop proto=tcp dstports=0-65536' >"$BATS_TEST_TMPDIR/bad"
	run -69 --separate-stderr splq firewall work set "$BATS_TEST_TMPDIR/bad"
	[[ $stderr == *"line 2: dstports=0-65536"* ]]
	run -66 --separate-stderr splq firewall work del 5
	run -64 --separate-stderr splq firewall work frobnicate
	# still the one rule, applied
	run --separate-stderr splq firewall work list --raw
	[ "$output" = "action=accept proto=tcp dstports=80-80" ]
	get work http://198.51.100.10/
	run ! get work http://198.51.100.10:8080/
	run -66 --separate-stderr splq firewall ghost list
}

@test "network: dsthost names are looked up by the netvm when it applies the rules; a name it cannot find changes nothing, or cuts the qube off" {
	make_net
	splq start work
	printf '%s\n' 'action=accept dsthost=other.example.test proto=tcp dstports=80' \
		'action=accept dsthost=www.example.test proto=tcp dstports=8080' >"$BATS_TEST_TMPDIR/rules"
	splq firewall work set "$BATS_TEST_TMPDIR/rules"
	# the rules keep the name; the netvm enforces its addresses
	run --separate-stderr splq firewall work list --raw
	[ "${lines[0]}" = "action=accept dsthost=other.example.test proto=tcp dstports=80-80" ]
	get work http://198.51.100.11/
	run ! get work http://198.51.100.10/
	get work http://198.51.100.10:8080/
	run ! get work "http://[2001:db8:100::10]/"
	run --separate-stderr ip netns exec "$UP" nft list table inet splq
	[[ $output == *"ip daddr 198.51.100.11 "*"dport 80-80 accept"* ]]
	[[ $output == *"ip6 daddr 2001:db8:100::10 "*"dport 8080-8080 accept"* ]]
	# a name the netvm cannot find: refused, naming rule and name; nothing changes
	run -66 --separate-stderr splq firewall work add action=accept dsthost=gone.example.test
	[[ $stderr == *"rule 2, dsthost=gone.example.test: gone.example.test: no such name"* ]]
	run --separate-stderr splq firewall work list --raw
	[ "${#lines[@]}" = 2 ]
	get work http://198.51.100.11/
	# at a start, such a name cuts the qube off (as in Qubes), until a
	# reload finds it
	splq shutdown --wait work
	echo 'action=accept dsthost=late.example.test' >>"$BATS_TEST_TMPDIR/rules"
	splq firewall work set "$BATS_TEST_TMPDIR/rules"
	splq start work
	run ! get work http://198.51.100.11/
	run -66 --separate-stderr splq firewall work reload
	[[ $stderr == *"dsthost=late.example.test"* ]]
	splq firewall work del 2
	get work http://198.51.100.11/
	run --separate-stderr splq audit log --qube work
	[[ $output == *"firewall work"*"reload"* ]]
}

@test "network: uplink none: an air-gapped network of qubes; its clients reach their netvm and nothing else" {
	splq create sys-air --template t --prop provides_network=True --prop uplink=none
	splq create a --template t --prop netvm=sys-air
	splq create b --template t --prop netvm=sys-air
	splq start a
	splq start b
	# the network qube has its clients' links and no way out
	run --separate-stderr splq run sys-air -- sh -c 'ls /sys/class/net | sort | tr "\n" " "; ip route show default'
	[[ $output =~ ^lo\ vif[0-9]+\ vif[0-9]+\ $ ]]
	run --separate-stderr ping_from a "$(splq prefs a visible_gateway)"
	assert_status 0
	run ! ping_from a 198.51.100.10
	run ! ping_from a "$(splq prefs b ip)"
	run ! get a http://198.51.100.10/
	# no DNS to send names to
	run --separate-stderr splq run a -- python3 -c 'import socket; socket.getaddrinfo("www.example.test", 80)'
	[ "$status" -ne 0 ]
	splq shutdown --force --wait sys-air
	splq kill a
	splq kill b
	assert_leftovers_none t sys-air a b
}
