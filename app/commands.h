// Subcommands of the marginscope executable. Each takes the arguments after its name (argv[0] is the
// subcommand name) and returns the process exit code; user mistakes throw ms::UserError (exit code 2).
#pragma once

namespace ms {

int cmdGui(int argc, char** argv);       // no subcommand: the desktop app (app/gui_main.cpp)
int cmdTrain(int argc, char** argv);     // headless training (app/cmd_train.cpp)
int cmdRender(int argc, char** argv);    // train, then render offscreen (app/cmd_render.cpp)
int cmdEvalLoss(int argc, char** argv);  // JSON in, loss and gradients out (app/cmd_eval_loss.cpp)
int cmdLosses(int argc, char** argv);    // the loss catalogue (app/cmd_losses.cpp)
int cmdSweep(int argc, char** argv);     // many runs, seeds, confidence intervals (app/cmd_sweep.cpp)

}  // namespace ms
