#!/bin/sh
# check_core.sh: the protocol cores are pure byte machines.  Each object
# given may call only the functions listed here (memory and string
# helpers, BearSSL's hashes, and the sanitizers' own hooks); anything else
# (malloc, socket, open, read, write, printf, time...) fails its case.
# Calls from one core into another core are allowed.  --log first lets
# the objects given also format log lines (snprintf, vsnprintf): the
# ledger's, which does no I/O but words what it does.
extra=
if [ "$1" = --log ]; then
	extra='|v?snprintf|__v?snprintf_chk'
	shift
fi
allowed='^(ts_(json|url|http|ws|round|store|recent|ledger)_[a-z_0-9]*|ts_(hex_value|iequal|trim|list_next|list_has|utf8_byte|utf8_run|utf8_char|days_from_civil|civil_from_days|month_days|fnv)|memcpy|memmove|memset|memcmp|bcmp|memchr|strlen|strchr|strncmp|strcmp|br_sha1_.*|__stack_chk_fail|__asan_.*|__ubsan_.*|__sanitizer_.*|__tsan_.*|_GLOBAL_OFFSET_TABLE_|__memcpy_chk|__memmove_chk|__memset_chk'"$extra"')$'
passed=0
failed=0
for o in "$@"; do
	bad=$(nm -u "$o" | awk '{print $NF}' | grep -Ev "$allowed")
	if [ -n "$bad" ]; then
		echo "  FAIL $o calls: $(echo $bad)"
		failed=$((failed + 1))
	else
		echo "  $o: only memory and string helpers ... ok"
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
