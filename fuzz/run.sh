#!/bin/sh
# splq: run every libFuzzer target in build-fuzz/ (built by `make fuzz`) for
# $FUZZ_SECONDS seconds each (default 30), inputs up to 4096 bytes, on its
# corpus fuzz/corpus-<name> (kept between runs, not in git).  Exits non-zero
# if any target crashes, leaks, or breaks one of its checks; the input that
# did it is left in build-fuzz/<target>-crash-... .
set -u
cd "$(dirname "$0")/.." || exit 2

secs=${FUZZ_SECONDS:-30}
case $secs in
'' | *[!0-9]*)
	echo "fuzz/run.sh: FUZZ_SECONDS must be a number of seconds, not '$secs'" >&2
	exit 2
	;;
esac

# A few valid inputs to start a new corpus from.
seed() {
	dir=$1
	shift
	i=0
	for s in "$@"; do
		i=$((i + 1))
		printf '%b' "$s" >"$dir/seed-$i"
	done
}
zeros=0000000000000000000000000000000000000000000000000000000000000000
line1='{"seq":1,"time":"2026-11-28T10:00:00.123Z","actor":"uid:0","op":"create","target":"work","args":"--template t --label blue","result":"ok","prev":"'$zeros'"}'

failed=0
ran=0
for bin in build-fuzz/fuzz_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	target=$(basename "$bin")
	name=${target#fuzz_}
	corpus=fuzz/corpus-$name
	mkdir -p "$corpus"
	if [ -z "$(ls -A "$corpus")" ]; then
		case $name in
		audit)
			seed "$corpus" "$line1" "$line1\\n" \
				'uid:0\0create\0work\0--label blue\0ok\0qube:work\0run\0work\0ls\0exit 0' \
				'{"seq":2}' '[]'
			;;
		policy)
			seed "$corpus" \
				'qubes.Filecopy * @anyvm @anyvm ask default_target=vault\n\0qubes.Filecopy+ work vault\n' \
				'* * @tag:dev @dispvm allow\n!compat-4.0\n\0x+ work @dispvm\nx+ vault @dispvm\n' \
				'a +b @anyvm @dispvm:dvm allow target=@adminvm user=root autostart=no\n\0a+b work @dispvm\n' \
				'!include-service a +b inc\n\0a+b work vault\n' \
				'* * work @anyvm ask target=@dispvm:dvm notify=yes\n# c\n\0q+ work sys\nq+ odd @dispvm\n' \
				'{"domains":{"a":{"type":"AppVM","tags":["x"],"default_dispvm":null}}}'
			;;
		model)
			seed "$corpus" work True no 400 -12 blue 7 user my-tag:x feature.name \
				AppVM sys-net-dm
			;;
		qx_request)
			# The header (magic "sqx1", little-endian), then
			# TARGET\0SERVICE\0.
			h='1xqs\0\0\0\0\0\0\0\0\0\0\0\0'
			seed "$corpus" "${h}work\0qubes.Filecopy+\0" "$h\0q.S\0" \
				"${h}@dispvm:dvm\0qubes.ConnectTCP+22\0" "${h}w\0s\0x"
			;;
		qfile)
			# A first byte (chunk size, flags), then a stream: directory
			# "d" holding file "d/f" ("hi") and symlink "d/l" -> "f".
			z8='\0000\0000\0000\0000\0000\0000\0000\0000'
			z16=$z8$z8
			dir="\0002\0000\0000\0000\0355\0101\0000\0000$z8${z16}d\0000"
			file="\0004\0000\0000\0000\0244\0201\0000\0000\0002\0000\0000\0000\0000\0000\0000\0000${z16}d/f\0000hi"
			link="\0004\0000\0000\0000\0377\0241\0000\0000\0001\0000\0000\0000\0000\0000\0000\0000${z16}d/l\0000f"
			seed "$corpus" "\0007$dir$file$link$dir$z16$z16" "\0100$dir$file$dir$z16$z16" \
				"\0001$file" "\0300$dir$link$dir$z16$z16"
			;;
		firewall)
			# Rule lists as `splq firewall set` reads them.
			seed "$corpus" 'action=accept\n' \
				'action=accept dsthost=198.51.100.10 proto=tcp dstports=443\naction=accept specialtarget=dns\n' \
				'# x\naction=drop dst6=2001:db8::/32 expire=+60 comment=a b\n' \
				'action=accept proto=icmp icmptype=8\naction=drop dst4=10.0.0.0/8\n'
			;;
		dns)
			# A type (0: A, 1: AAAA), then an answer for
			# www.example.test: one A record; a CNAME and one AAAA.
			h='\0022\0064\0201\0200\0000\0001'
			q='\0003www\0007example\0004test\0000'
			seed "$corpus" \
				"\0000$h\0000\0001\0000\0000\0000\0000$q\0000\0001\0000\0001\0300\0014\0000\0001\0000\0001\0000\0000\0000\0074\0000\0004\0306\0063\0144\0012" \
				"\0001$h\0000\0002\0000\0000\0000\0000$q\0000\0034\0000\0001\0300\0014\0000\0005\0000\0001\0000\0000\0000\0074\0000\0002\0300\0020\0300\0020\0000\0034\0000\0001\0000\0000\0000\0074\0000\0020\0040\0001\0015\0270\0000\0000\0000\0000\0000\0000\0000\0000\0000\0000\0000\0020" \
				"\0000$h\0000\0000\0000\0000\0000\0000$q\0000\0001\0000\0001"
			;;
		manifest)
			# Two bytes (chunk size, most records), then a manifest:
			# none, or "f" (3 bytes) and "d/g" (empty), then the end.
			z4='\0000\0000\0000\0000'
			sha='\0253\0253\0253\0253\0253\0253\0253\0253'
			sha=$sha$sha$sha$sha
			f="\0001\0000\0000\0000\0003\0000\0000\0000\0000\0000\0000\0000${sha}f"
			g="\0003\0000\0000\0000$z4$z4${sha}d/g"
			seed "$corpus" "\0003\0003$z4" "\0000\0002$f$g$z4" "\0377\0001$f$g$z4" \
				"\0007\0002$f"
			;;
		minisign)
			# A first byte (even: a public key, odd: a signature),
			# then what minisign 0.11 wrote: a key file, the key's
			# line alone, a signature (prehashed, "ED") and a legacy
			# one ("Ed") of the same file.
			pub=RWQQlnPfyCnKPXTshJyLNucQE/BR7ekFnpMSGgDkAuMErNn0P6tqFJea
			u='untrusted comment: signature from minisign secret key\n'
			seed "$corpus" \
				"\0000untrusted comment: minisign public key 3DCA29C8DF739610\n$pub\n" \
				"\0000$pub" \
				"\0001${u}RUQQlnPfyCnKPSrB6LBwGQ5Y9z5X1AbRReGa/+CUyg+H7crMpuCFAw0WxCRfVUcPj5dbX/00M61MNSXtXgRBqzQU50yPAfDOqgk=\ntrusted comment: timestamp:1796287796\tfile:file\thashed\nyXepS+zgWsS7xo24weTmUbZ9K5j8bY70s65pXacFXbKmtvF0pLS1KzmvmWd4rlclsI/uchci8hWeG8GHcKtjBA==\n" \
				"\0001${u}RWQQlnPfyCnKPXtdFSLItPS4Sa2d1H2/04+x1Iws/nNO8kaJaN1ezKPQ1el5JbH8XCoKrB2zop4gRm0efvrkr3+0Mpcx8wud6AU=\r\ntrusted comment: legacy trusted\r\n4vIUxaPq123KUUmuG5gB2LPxtHs+T/54XUSjQYaGrlW4Qet4wvwjEZ88+aisvgInDm8Ex+Dyd0mmZPYQHBdsCw=="
			;;
		vault)
			# A first byte (0: a master key file, 1: a record, 2: an
			# index, 3: fields, 4: an index's entries), then: a master
			# key file sealed with fuzz_vault.c's key file, and one of
			# scrypt's with nothing sealed; a record of its entry and an
			# index of one entry ("ok"), under its MK and generation 7;
			# fields "abc", "" and "x"; entries "key" and "ok", and none.
			z4='\0000\0000\0000\0000'
			z8=$z4$z4
			z16=$z8$z8
			master='\0163\0160\0154\0161\0126\0115\0113\0061\0002\0000\0000\0000\0000\0000\0000\0000\0000\0000\0000\0000\0000\0000\0000\0007\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0021\0010\0006\0320\0246\0222\0026\0147\0327\0061\0024\0063\0070\0256\0244\0345\0221\0307\0022\0163\0270\0174\0064\0006\0142\0035\0313\0344\0205\0365\0306\0106\0001\0310\0344\0351\0067\0121\0126\0352\0240\0112\0076\0164\0043\0073\0223\0260\0171\0164\0124\0104\0244\0360\0373\0327\0061\0107\0111\0051\0126'
			record='\0163\0160\0154\0161\0126\0122\0103\0061\0001\0046\0000\0000\0000\0000\0000\0007\0000\0000\0000\0000\0000\0000\0000\0003\0000\0000\0000\0000\0000\0000\0000\0005\0344\0171\0214\0171\0046\0340\0313\0226\0040\0155\0072\0056\0146\0165\0172\0172\0056\0141\0055\0162\0145\0143\0157\0162\0144\0055\0156\0141\0155\0145\0055\0154\0157\0156\0147\0145\0162\0055\0164\0150\0141\0156\0055\0163\0151\0170\0164\0145\0145\0156\0370\0267\0175\0107\0340\0274\0332\0306\0263\0107\0135\0263\0061\0173\0253\0251\0377\0331\0051\0116\0164'
			index='\0163\0160\0154\0161\0126\0111\0130\0061\0000\0000\0000\0007\0000\0000\0000\0000\0000\0000\0000\0001\0120\0210\0025\0247\0023\0220\0125\0243\0177\0147\0043\0363\0165\0022\0174\0170\0374\0141\0177\0237\0301\0364\0220\0036\0270\0245\0337\0353\0357\0152\0132\0344\0354\0203\0135\0316\0132\0003\0350\0223\0106\0120\0012\0104\0147\0335\0135\0240\0206\0174\0241\0072\0135\0334\0276\0345\0021\0306\0051\0076\0132\0104\0136\0123\0023\0237\0155\0233\0026\0126\0303\0125\0063\0362\0240\0375\0076\0213\0316\0204'
			seed "$corpus" "\0000$master" \
				"\0000splqVMK1\0001\0012\0000\0000\0000\0000\0000\0010\0000\0000\0000\0001\0000\0000\0000\0001$z16$z16$z16$z16$z16$z8$z4" \
				"\0001$record" "\0002$index" \
				"\0003\0000\0000\0000\0003abc$z4\0000\0000\0000\0001x" \
				"\0004\0000\0000\0000\0002\0002\0003key$z16$z16$z8$z4\0001\0002ok$z16$z16$z8$z4" \
				"\0004$z4"
			;;
		esac
	fi
	ran=$((ran + 1))
	log=build-fuzz/$target.log
	printf '%s: %ss on %s ... ' "$target" "$secs" "$corpus"
	if "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-artifact_prefix="build-fuzz/$target-" "$corpus" >"$log" 2>&1; then
		echo "ok ($(grep -o 'Done [0-9]* runs' "$log" | tail -1))"
	else
		echo "FAILED"
		tail -n 40 "$log"
		failed=$((failed + 1))
	fi
done

if [ "$ran" -eq 0 ]; then
	echo "fuzz/run.sh: no fuzz targets in build-fuzz/ (run make fuzz)" >&2
	exit 2
fi
echo "$ran fuzz targets, $failed failed"
[ "$failed" -eq 0 ]
