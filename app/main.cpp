// marginscope: live margin-loss geometry for lectures and papers.
// With no subcommand it opens the desktop app; the subcommands run headless (see --help).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "app/commands.h"
#include "sim/errors.h"
#include "sim/network_simd.h"

namespace {

const char* kHelp =
    "marginscope " MS_VERSION
    " - live geometry of margin-based losses (softmax, SphereFace, CosFace, ArcFace, ...)\n"
    "\n"
    "usage: marginscope [GUI options]            open the desktop app\n"
    "       marginscope train  [options] --metrics FILE\n"
    "       marginscope render [options] --out FILE.png [--svg FILE.svg] [--metrics FILE]\n"
    "       marginscope eval-loss  < request.json\n"
    "       marginscope losses [--json]\n"
    "       marginscope sweep  [options] --vary KEY=V1,V2 --seeds 1-5 --out DIR [--jobs N | "
    "--emit-commands]\n"
    "       marginscope sweep  --collect DIR\n"
    "       marginscope SUBCOMMAND --help        options of one subcommand\n"
    "\n"
    "GUI options: --config FILE, --width W, --height H, --quit-after SECONDS, --report FILE\n"
    "Training options (train, render): --config FILE, --loss NAME, --param KEY=VALUE, --dataset NAME,\n"
    "  --classes K, --samples N, --input-dim P, --dim 2|3, --model mlp|free, --hidden 64,64,\n"
    "  --activation relu|tanh, --optimizer sgd|adam, --lr X, --batch N, --steps N, --seed S, --save-config "
    "FILE,\n"
    "  --portable\n"
    "\n"
    "Exit codes: 0 success, 2 bad input (one line on stderr says what and what is allowed), 1 an internal\n"
    "  error (a bug: please report it).\n"
    "Reproducibility: the same seed gives bit-identical numbers on the same machine kind and SIMD level;\n"
    "  train/render --portable (or MS_SIMD=generic) gives numbers that match across x86-64 machines.\n";

// Every message is one line: a value echoed from the user's input may hold newlines or be very long.
std::string oneLine(const char* what) {
  std::string s = what;
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s.size() > 600 ? s.substr(0, 597) + "..." : s;
}

// Portable mode (README "Reproducibility"; `train/render --portable` or MS_SIMD=generic): the baseline
// kernels and fixed Eigen blocking (usePortableArithmetic), and glibc's baseline libm. glibc picks FMA
// builds of exp, log, pow, sin, cos, atan2, acos on CPUs that have FMA and AVX2, and those round differently
// in the last bit now and then (seen: 300 steps of the default preset end in different bits). glibc reads
// GLIBC_TUNABLES only when a process starts, so the process starts itself once more with it set.
void enterPortableMode(char** argv) {
  static const char kTunable[] = "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4";
  const char* t = std::getenv("GLIBC_TUNABLES");
  if (!t || !std::strstr(t, kTunable)) {
    const std::string v = t && *t ? std::string(t) + ":" + kTunable : std::string(kTunable);
    setenv("GLIBC_TUNABLES", v.c_str(), 1);
    setenv("MS_SIMD", "generic", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: go on without the libm part
    std::fprintf(stderr, "marginscope: --portable: could not restart with GLIBC_TUNABLES=%s (%s)\n", kTunable,
                 std::strerror(errno));
  }
  ms::usePortableArithmetic();
}

bool portableFlag(int argc, char** argv) {
  if (argc < 2 || (std::strcmp(argv[1], "train") != 0 && std::strcmp(argv[1], "render") != 0 &&
                   std::strcmp(argv[1], "sweep") != 0))
    return false;
  for (int i = 2; i < argc; ++i)
    if (std::strcmp(argv[i], "--portable") == 0) return true;
  return false;
}

int internalError(const std::string& what) {
  std::fprintf(stderr,
               "marginscope: internal error (a bug: please report it as a marginscope issue with the command "
               "line and this line): %s\n",
               oneLine(what.c_str()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // MS_SIMD=generic is portable mode for every subcommand and the GUI, as --portable is for train/render.
  if (ms::portableRequested() || portableFlag(argc, argv)) enterPortableMode(argv);
  try {
    if (argc >= 2) {
      const std::string a = argv[1];
      if (a == "--version" || a == "-V") {
        std::printf("marginscope %s\n", MS_VERSION);
        return 0;
      }
      if (a == "--help" || a == "-h") {
        std::fputs(kHelp, stdout);
        return 0;
      }
      if (a == "train") return ms::cmdTrain(argc - 1, argv + 1);
      if (a == "render") return ms::cmdRender(argc - 1, argv + 1);
      if (a == "eval-loss") return ms::cmdEvalLoss(argc - 1, argv + 1);
      if (a == "losses") return ms::cmdLosses(argc - 1, argv + 1);
      if (a == "sweep") return ms::cmdSweep(argc - 1, argv + 1);
      if (a[0] != '-') {
        std::fprintf(
            stderr,
            "marginscope: unknown subcommand '%s' (allowed: train, render, eval-loss, losses, sweep, or none "
            "for the GUI; see --help)\n",
            a.c_str());
        return 2;
      }
    }
    return ms::cmdGui(argc, argv);
  } catch (const ms::UserError& e) {
    std::fprintf(stderr, "marginscope: %s\n", oneLine(e.what()).c_str());
    return 2;
  } catch (const std::bad_alloc&) {
    return internalError("out of memory (a size was not checked before use)");
  } catch (const std::exception& e) {
    return internalError(e.what());
  } catch (...) {
    return internalError("an unknown exception");
  }
}
