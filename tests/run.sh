#!/bin/sh
# run.sh: run every test program given on the command line, show its
# output, and add up the "N passed, M failed" lines they end with.  A
# program that dies without its summary line counts as one failure.
# Ends with the grand total in the same form; exits 1 if anything failed.
passed=0
failed=0
for t in "$@"; do
	echo "== $t"
	out=$(sh -c "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -n "$last" ]; then
		p=${last%% passed*}
		f=${last#*passed, }
		f=${f%% failed*}
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "   exit status $rc despite no failed case"
			failed=$((failed + 1))
		fi
	else
		echo "   FAIL: $t exited $rc without a summary line"
		failed=$((failed + 1))
	fi
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
