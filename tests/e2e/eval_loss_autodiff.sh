#!/usr/bin/env bash
# eval-loss against an independent reverse-mode autodiff reference (eval_loss_reference.py, plain Python, no
# numpy): every loss and variant on random inputs of three sizes must agree to 1e-6 relative. Skips (exit 0,
# saying so) where python3 is not installed.
set -u
bin="$1"; src="$2"
if ! command -v python3 >/dev/null; then echo "skip: python3 not installed"; exit 0; fi
python3 "$src/tests/e2e/eval_loss_reference.py" "$bin"
