#!/usr/bin/env bash
# End-to-end smoke test of the built executable: version, help, and a clear exit 2 for a bad subcommand.
set -u
bin="$1"; fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
out=$("$bin" --version); code=$?
check "--version exits 0" '[[ $code == 0 ]]'
check "--version prints the version" '[[ "$out" =~ ^marginscope\ [0-9]+\.[0-9]+\.[0-9]+$ ]]'
out=$("$bin" --help); code=$?
check "--help exits 0" '[[ $code == 0 ]]'
for sub in train render eval-loss losses; do
  check "--help names $sub" '[[ "$out" == *"$sub"* ]]'
done
err=$("$bin" frobnicate 2>&1 >/dev/null); code=$?
check "unknown subcommand exits 2" '[[ $code == 2 ]]'
check "unknown subcommand names itself and the allowed ones" '[[ "$err" == *frobnicate* && "$err" == *train* && "$err" == *render* ]]'
check "the error is one line" '[[ $(printf "%s\n" "$err" | wc -l) == 1 ]]'
exit $fail
