#!/usr/bin/env bash
# All or nothing on outputs (issue 13): a run that fails replaces none of the files already saved; output
# files get ordinary modes (0666 less the umask; a replaced file keeps its own); a process killed while it
# writes (SIGTERM, SIGINT, kill -9) leaves neither a half file nor a visible temporary file, and a hidden
# temporary left by kill -9 is never taken for output.
set -u
bin="$1"; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
mode() { stat -c %a "$1"; }
small=(--classes 3 --samples 40 --hidden 16 --batch 32 --steps 20 --quiet)

# ---- a failing run touches nothing saved before
cd "$tmp"
mkdir adir
for f in c.json e.csv o.png; do echo old > "$f"; done
"$bin" train "${small[@]}" --save-config c.json --save-embeddings e.csv --metrics adir 2>/dev/null; code=$?
check "train with --metrics FOLDER exits 2" '[[ $code == 2 ]]'
check "... and c.json, e.csv are untouched" '[[ "$(cat c.json e.csv)" == "$(printf "old\nold")" ]]'
"$bin" render "${small[@]}" --svg adir --out o.png 2>/dev/null; code=$?
check "render --svg FOLDER exits 2, o.png untouched" '[[ $code == 2 && "$(cat o.png)" == old ]]'
"$bin" train "${small[@]}" --save-config c.json --metrics c.json 2>/dev/null; code=$?
check "one file for two outputs is refused" '[[ $code == 2 && "$(cat c.json)" == old ]]'
"$bin" train "${small[@]}" --save-config c.json --dataset "csv:$tmp/none.csv" 2>/dev/null; code=$?
check "a run that fails reading its data leaves --save-config untouched" '[[ $code == 2 && "$(cat c.json)" == old ]]'

# ---- modes: as an ordinary new file, or the replaced file's
rm -f c.json e.csv
(umask 022; "$bin" train "${small[@]}" --save-config c.json --save-embeddings e.csv --metrics m.json)
check "new files are 0644 under umask 022 (was 0600)" '[[ $(mode c.json) == 644 && $(mode e.csv) == 644 && $(mode m.json) == 644 ]]'
chmod 640 m.json
(umask 077; "$bin" train "${small[@]}" --metrics m.json --save-config p.json)
check "a replaced 0640 file stays 0640" '[[ $(mode m.json) == 640 ]]'
check "a new file under umask 077 is 0600" '[[ $(mode p.json) == 600 ]]'
check "no temporary file left (hidden or not)" '[[ -z "$(ls -A | grep tmp)" ]]'

# ---- killed while writing: poll the process's open files and signal it the moment one is in the folder
cat > killer.py <<'EOF'
import os, signal, subprocess, sys, time
folder, sig, cmd = sys.argv[1], getattr(signal, sys.argv[2]), sys.argv[3:]
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
caught = False
while p.poll() is None and not caught:
    try:
        for fd in os.listdir("/proc/%d/fd" % p.pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (p.pid, fd)).startswith(folder + "/"):
                    p.send_signal(sig); caught = True; break
            except OSError:
                pass
    except OSError:
        pass
    time.sleep(0.0002)
p.wait()
print("caught" if caught else "finished")
EOF
big=(--classes 10 --samples 20000 --hidden 16 --batch 32 --steps 5 --quiet)
for named in 0 1; do   # 1: the path of filesystems without O_TMPFILE (hidden named temporaries)
  for sig in SIGTERM SIGINT SIGKILL; do
    rm -rf k; mkdir k
    envp=(env); [[ $named == 1 ]] && envp=(env MS_NAMED_TEMP=1)
    how=$("${envp[@]}" python3 killer.py "$tmp/k" $sig \
      "$bin" train "${big[@]}" --save-embeddings k/e.csv --metrics k/m.json --save-config k/c.json)
    label="named=$named $sig ($how)"
    check "$label: no output appeared (all or nothing)" '[[ $how == finished || -z "$(ls k)" ]]'
    if [[ $named == 1 && $sig == SIGKILL ]]; then
      # kill -9 cannot be caught: a hidden .NAME.tmp.PID.N may stay; it never looks like an output.
      check "$label: what stays is hidden and ends in neither .csv nor .json" \
        '[[ -z "$(ls k)" && -z "$(ls -A k | grep -vE "^\.[a-z]\.(csv|json)\.tmp\.[0-9]+\.[0-9]+$")" ]]'
      "$bin" train "${small[@]}" --metrics k/m.json
      check "$label: the next run writes its output beside it" '[[ -s k/m.json ]]'
    else
      check "$label: nothing left behind, hidden or not" '[[ -z "$(ls -A k)" ]]'
    fi
  done
done
exit $fail
