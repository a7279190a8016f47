#!/usr/bin/env bash
# The README's two commands:
#   scripts/setup.sh run   [app options]  install what is missing, build Release, launch the app
#   scripts/setup.sh test                 install what is missing, build, run every test and gate
# Works as root, or as a user with sudo. Everything comes from Debian 12 packages.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"; shift || true
jobs="$(nproc)"

packages=(build-essential cmake pkg-config git clang-format python3
  libeigen3-dev zlib1g-dev libimgui-dev libstb-dev libglfw3-dev libepoxy-dev libegl-dev libgl-dev
  libegl-mesa0 libgl1-mesa-dri nlohmann-json3-dev libcli11-dev libgtest-dev libbenchmark-dev
  fonts-dejavu-core xvfb xauth dataset-fashion-mnist clang libclang-rt-14-dev parallel)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=""; [[ "$(id -u)" != 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build() {  # dir, cmake args...
  local dir="$1"; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" > /dev/null
  cmake --build "$dir" -j "$jobs"
}

echo "== building Release (build/)"
build build
case "$mode" in
  run)
    exec ./build/marginscope "$@"
    ;;
  test)
    echo "== gate: clang-format"
    files=$(git ls-files -co --exclude-standard -- 'app/*.cpp' 'app/*.h' 'sim/*.cpp' 'sim/*.h' 'render/*.cpp' \
      'render/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
    clang-format --dry-run --Werror $files
    echo "== gate: sim library and tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
    build build-asan -DMS_SIM_ONLY=ON -DMS_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo
    (cd build-asan && ctest -j "$jobs" --output-on-failure --timeout 900)
    echo "== gate: worker-thread tests under ThreadSanitizer (build-tsan/)"
    build build-tsan -DMS_SIM_ONLY=ON -DMS_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo
    (cd build-tsan && TSAN_OPTIONS="halt_on_error=1" ctest -j "$jobs" --output-on-failure --timeout 900 --no-tests=error -R "Worker|Handoff")
    echo "== gate: the app's view thread under ThreadSanitizer (build-tsan-app/)"
    # Mesa's rasteriser is not instrumented; tests/tsan.supp silences what TSan cannot see inside it.
    cmake -S . -B build-tsan-app -DMS_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_BUILD_BENCH=OFF > /dev/null
    cmake --build build-tsan-app --target test_view_thread -j "$jobs"
    TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" build-tsan-app/test_view_thread
    echo "== gate: the four input parsers fuzzed under ASan+UBSan, 100 s each, two at a time (build-fuzz/)"
    # libFuzzer comes with clang (libclang-rt-14-dev); see README "Fuzzing" to run them longer.
    tests/fuzz/run.sh 100
    echo "== full test suite (build/)"
    cd build && ctest -j "$jobs" --output-on-failure --timeout 900
    ;;
  *)
    echo "usage: scripts/setup.sh run|test" >&2; exit 2 ;;
esac
