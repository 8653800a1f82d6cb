#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016  # run sets status etc.; $VARS: expanded in the qube
# splq: TCP between qubes.  A server listens on 127.0.0.1 in qube b, which
# has no netvm (its network namespace has loopback only), and qube a
# reaches it only through qrexec: qvm-connect-tcp in a, qubes.ConnectTCP
# (splq's own) or a /dev/tcp symlink (Qubes' TCP services) in b.  The
# policy decides every connection.  All traffic stays on the loopback
# devices of the qubes' own namespaces.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	require_root
	setup_splq
	splq policy >/dev/null
	make_host_template t
}

# Nothing runs on the host in the background: every server and forwarder
# is inside a qube and dies with it.
teardown() {
	teardown_splq
}

# A server for qube b, in Python from the host's /usr: on 127.0.0.1:PORT it
# greets every connection ("hello from HOSTNAME"), then in mode echo sends
# back what it reads and, at EOF, "bye" and closes; in mode close it closes
# at once, reading nothing.  It prints "ready" once it listens and goes on
# in the background (it dies with its qube).
SERVER='
import os, socket, sys, threading
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", port))
s.listen()
if os.fork():
    print("ready")
    sys.exit(0)
os.setsid()
null = os.open("/dev/null", os.O_RDWR)
for fd in 0, 1, 2:
    os.dup2(null, fd)
def serve(c):
    c.sendall(b"hello from " + socket.gethostname().encode() + b"\n")
    while mode == "echo":
        d = c.recv(65536)
        if not d:
            c.sendall(b"bye\n")
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'

# serve QUBE PORT [MODE]: the server above in QUBE.
serve() {
	run "$SPLQ" run "$1" -- python3 -c "$SERVER" "$2" "${3:-echo}"
	assert_status 0
	[ "$output" = ready ]
}

# A client for qube a: connects to 127.0.0.1:PORT, prints the greeting,
# sends 1 MiB while it reads, shuts its sending side down, and prints
# whether the echo came back whole and what followed it; "closed" when the
# connection ends before a greeting.
CLIENT='
import socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
f = s.makefile("rb")
greeting = f.readline()
if not greeting:
    print("closed")
    sys.exit(0)
print(greeting.decode().strip())
data = bytes(range(256)) * 4096
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
rest = f.read()
t.join()
print("echo", rest[:len(data)] == data, rest[len(data):].decode().strip())
'

# call_from_a TARGET SERVICE: qrexec-client-vm in qube a, given a minute
# (a relay that never ends fails the test rather than hanging it).
call_from_a() {
	timeout 60 "$SPLQ" run a -- qrexec-client-vm "$@"
}

# Processes named NAME in qube Q, one "PID STATE" a line.
procs_named() {
	in_root "$1" ps -eo pid=,stat=,comm= | awk -v n="$2" '$3 == n { print $1, $2 }'
}

# Wait (up to 10 s) until qube Q has N processes named NAME: wait_procs Q
# NAME N.  A forwarder ends just after its connection did.
wait_procs() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(procs_named "$1" "$2" | wc -l)" = "$3" ] && return 0
		sleep 0.1
	done
	printf 'qube %s: processes named %s:\n%s\n' "$1" "$2" "$(procs_named "$1" "$2")" >&2
	return 1
}

@test "tcp: qvm-connect-tcp in a reaches a server in b (loopback only) through qubes.ConnectTCP, both ways" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	# b has no network but its loopback, which is up
	run "$SPLQ" run b -- ls /sys/class/net
	[ "$output" = lo ]
	run "$SPLQ" run b -- cat /sys/class/net/lo/flags
	(($(printf '%d' "$output") & 1))
	serve b 4000
	# a does not share b's loopback
	run "$SPLQ" run a -- python3 -c "$CLIENT" 4000
	[ "$status" -ne 0 ]
	[[ $output == *ConnectionRefusedError* ]]
	policy 'qubes.ConnectTCP +4000 a b allow' 'qubes.ConnectTCP +4000 a @default allow target=b'
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp 5000:b:4000
	assert_status 0
	[[ $output == *127.0.0.1:5000*4000*"'b'"* ]]
	# the command returned; the forwarder runs on, in a session of its own
	[ "$(procs_named a qvm-connect-tcp | wc -l)" = 1 ]
	run "$SPLQ" run a -- python3 -c "$CLIENT" 5000
	assert_status 0
	[ "${lines[0]}" = "hello from b" ]
	[ "${lines[1]}" = "echo True bye" ]
	# again: one call per connection; the ended forwarders were reaped
	run "$SPLQ" run a -- python3 -c "$CLIENT" 5000
	[ "${lines[1]}" = "echo True bye" ]
	wait_procs a qvm-connect-tcp 1
	[[ $(procs_named a qvm-connect-tcp) != *Z* ]]
	# it listens on 127.0.0.1 only (Qubes' on every address): 5000 is 1388
	run "$SPLQ" run a -- awk '$4 == "0A" { print $2 }' /proc/net/tcp /proc/net/tcp6
	[ "$output" = 0100007F:1388 ]
	# an empty LOCALPORT is PORT, an empty DOMAIN @default
	run "$SPLQ" run a -- qvm-connect-tcp ::4000
	assert_status 0
	[[ $output == *127.0.0.1:4000*"'@default'"* ]]
	run "$SPLQ" run a -- python3 -c "$CLIENT" 4000
	[ "${lines[0]}" = "hello from b" ]
	[ "${lines[1]}" = "echo True bye" ]
	run "$SPLQ" audit log --qube a
	[[ $output == *"a -> b qubes.ConnectTCP+4000"* ]]
	[[ $output == *"a -> @default qubes.ConnectTCP+4000"* ]]
	# the forwarders go with their qube
	splq shutdown --wait a b
	assert_leftovers_none
}

@test "tcp: the policy allows a port, not the others; a refused connection is closed" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	serve b 4000
	serve b 4001
	policy 'qubes.ConnectTCP +4000 a b allow'
	run --separate-stderr call_from_a b qubes.ConnectTCP+4000 <<<ping
	assert_status 0
	[ "$output" = "hello from b
ping
bye" ]
	run --separate-stderr call_from_a b qubes.ConnectTCP+4001 <<<ping
	assert_status 126
	[[ $stderr == *"Request refused"* ]]
	[ -z "$output" ]
	run --separate-stderr call_from_a b qubes.ConnectTCP </dev/null
	assert_status 126
	# through qvm-connect-tcp: the refused call closes the connection
	run "$SPLQ" run a -- qvm-connect-tcp 5001:b:4001
	assert_status 0
	run "$SPLQ" run a -- python3 -c "$CLIENT" 5001
	assert_status 0
	[ "$output" = closed ]
	run "$SPLQ" audit log --qube a
	[[ $output == *"call a \"deny ("*"\" a -> b qubes.ConnectTCP+4001"* ]]
	# the forwarder lives on for the next connection
	wait_procs a qvm-connect-tcp 1
	policy 'qubes.ConnectTCP +4000 a b allow' 'qubes.ConnectTCP +4001 a b allow'
	run "$SPLQ" run a -- python3 -c "$CLIENT" 5001
	[ "${lines[0]}" = "hello from b" ]
	[ "${lines[1]}" = "echo True bye" ]
}

@test "tcp: qubes.ConnectTCP called directly: stdin and stdout, exit at the server's end, 125 for no listener or a bad port" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	serve b 4000
	serve b 4002 close
	policy 'qubes.ConnectTCP * a b allow'
	# stdin's end is the server's EOF; what the server sends after it comes
	run --separate-stderr call_from_a b qubes.ConnectTCP+4000 \
		< <(printf 'one\ntwo\n')
	assert_status 0
	[ "$output" = "hello from b
one
two
bye" ]
	# the server's end is the end of the call, though stdin goes on: a
	# FIFO that a descriptor of this shell keeps open
	local fifo=$BATS_TEST_TMPDIR/in
	mkfifo "$fifo"
	exec 5<>"$fifo"
	run --separate-stderr call_from_a b qubes.ConnectTCP+4002 \
		<"$fifo" 5>&-
	exec 5>&-
	assert_status 0
	[ "$output" = "hello from b" ]
	# nothing listening
	run --separate-stderr call_from_a b qubes.ConnectTCP+4003 </dev/null
	assert_status 125
	[[ $stderr == *"cannot connect to 127.0.0.1:4003"*"refused"* ]]
	# not Qubes' port: 1..65535, decimal, no leading zero; none at all
	local arg
	for arg in 0 65536 012 00 abc 4000a -1 99999999999 '' nothing; do
		if [ "$arg" = nothing ]; then
			run --separate-stderr call_from_a b qubes.ConnectTCP </dev/null
		else
			run --separate-stderr call_from_a b "qubes.ConnectTCP+$arg" \
				</dev/null
		fi
		assert_status 125
		[[ $stderr == *qubes.ConnectTCP:* ]]
	done
	[[ $stderr == *"no port"* ]]
	run call_from_a b qubes.ConnectTCP+65535 </dev/null
	assert_status 125
	[[ $output == *"127.0.0.1:65535"* ]]
}

@test "tcp: Qubes' /dev/tcp symlinks in /etc/qubes-rpc are TCP services" {
	make_qube a
	make_qube b
	splq start a
	splq start b
	serve b 4000
	# in b's root overlay: gone when b stops
	in_root b sh -c 'mkdir -p /etc/qubes-rpc && cd /etc/qubes-rpc &&
		ln -s /dev/tcp/127.0.0.1 my.Tcp && ln -s /dev/tcp/127.0.0.1/4000 my.Fixed &&
		ln -s /dev/tcp my.Any && ln -s /dev/tcp/localhost/4000 my.Named &&
		ln -s /dev/tcpx my.Odd && ln -s /nonexistent my.Gone'
	policy 'my.Tcp * a b allow' 'my.Fixed * a b allow' 'my.Any * a b allow' \
		'my.Named * a b allow' 'my.Odd * a b allow' 'my.Gone * a b allow'
	# /dev/tcp/127.0.0.1: the port is the argument, as with qubes.ConnectTCP
	run --separate-stderr call_from_a b my.Tcp+4000 <<<x
	assert_status 0
	[ "$output" = "hello from b
x
bye" ]
	run --separate-stderr call_from_a b my.Tcp+4009 </dev/null
	assert_status 125
	[[ $stderr == *"my.Tcp: cannot connect to 127.0.0.1:4009"* ]]
	run --separate-stderr call_from_a b my.Tcp+012 </dev/null
	assert_status 125
	run --separate-stderr call_from_a b my.Tcp </dev/null
	assert_status 125
	# /dev/tcp/HOST/PORT: no argument, or it is refused
	run --separate-stderr call_from_a b my.Fixed <<<y
	assert_status 0
	[ "${lines[1]}" = y ]
	run --separate-stderr call_from_a b my.Fixed+4000 </dev/null
	assert_status 125
	[[ $stderr == *"no argument"* ]]
	# /dev/tcp: HOST+PORT is the argument, '+' for ':' in IPv6
	run --separate-stderr call_from_a b my.Any+127.0.0.1+4000 <<<z
	assert_status 0
	[ "${lines[1]}" = z ]
	run --separate-stderr call_from_a b my.Any+++1+4000 </dev/null
	assert_status 125
	[[ $stderr == *"[::1]:4000"* ]]
	run --separate-stderr call_from_a b my.Any+4000 </dev/null
	assert_status 125
	# names are not resolved; other links under /dev/tcp are not services
	run --separate-stderr call_from_a b my.Named </dev/null
	assert_status 125
	[[ $stderr == *"'localhost' is not a numeric"* ]]
	run --separate-stderr call_from_a b my.Odd+4000 </dev/null
	assert_status 125
	# a dangling link to anything else is no service, as before
	run -127 --separate-stderr call_from_a b my.Gone </dev/null
	# the links went with b's root overlay
	splq shutdown --wait b
	run -127 --separate-stderr call_from_a b my.Tcp+4000 </dev/null
}

@test "tcp: qvm-connect-tcp refuses bad arguments and a port in use, and leaves nothing behind" {
	make_qube a
	splq start a
	local arg
	for arg in '' 5000 5000:b 5000:b: :: 0:b:80 5000:b:65536 x:b:80 5000:b:012 5000:b:80:9 \
		'5000:b:-1'; do
		run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp "$arg"
		assert_status 1
		[[ $stderr == *"usage: qvm-connect-tcp [LOCALPORT]:[DOMAIN]:[PORT]"* ]]
	done
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp 5000:b:
	[[ $stderr == *"PORT is missing"* ]]
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp 0:b:80
	[[ $stderr == *"'0' is not a port"* ]]
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp
	assert_status 1
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp 1:b:2 3:b:4
	assert_status 1
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp --help
	assert_status 0
	[[ $output == *"usage: qvm-connect-tcp"* ]]
	[ "$(procs_named a qvm-connect-tcp)" = "" ]
	# a port in use is said before it goes to the background
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp 5000:b:80
	assert_status 0
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp 5000:b:81
	assert_status 1
	[[ $stderr == *"cannot listen on 127.0.0.1:5000"*"in use"* ]]
	# below 1024: no one in a qube, not even its root (its network
	# namespace is the host's)
	run --separate-stderr "$SPLQ" run a -- qvm-connect-tcp 80:b:80
	assert_status 1
	[[ $stderr == *"cannot listen on 127.0.0.1:80"*"not even its root"* ]]
	run --separate-stderr in_root a qvm-connect-tcp 80:b:80
	assert_status 1
	[ "$(procs_named a qvm-connect-tcp | wc -l)" = 1 ]
	splq shutdown --wait a
	assert_leftovers_none
}
