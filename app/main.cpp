// marginscope: live margin-loss geometry for lectures and papers.
// With no subcommand it opens the desktop app; the subcommands run headless (see --help).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "app/commands.h"
#include "sim/errors.h"

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
    "       marginscope SUBCOMMAND --help        options of one subcommand\n"
    "\n"
    "GUI options: --config FILE, --width W, --height H, --quit-after SECONDS, --report FILE\n"
    "Training options (train, render): --config FILE, --loss NAME, --param KEY=VALUE, --dataset NAME,\n"
    "  --classes K, --samples N, --input-dim P, --dim 2|3, --model mlp|free, --hidden 64,64,\n"
    "  --activation relu|tanh, --optimizer sgd|adam, --lr X, --batch N, --steps N, --seed S, --save-config "
    "FILE\n"
    "\n"
    "Exit codes: 0 success, 2 bad input (one line on stderr says what and what is allowed).\n";

}  // namespace

int main(int argc, char** argv) {
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
      if (a[0] != '-') {
        std::fprintf(
            stderr,
            "marginscope: unknown subcommand '%s' (allowed: train, render, eval-loss, losses, or none "
            "for the GUI; see --help)\n",
            a.c_str());
        return 2;
      }
    }
    return ms::cmdGui(argc, argv);
  } catch (const ms::UserError& e) {
    std::fprintf(stderr, "marginscope: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "marginscope: internal error: %s\n", e.what());
    return 1;
  }
}
