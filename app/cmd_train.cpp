// Placeholder until its issue lands: the subcommand exists so that main links.
#include "app/commands.h"
#include "sim/errors.h"

namespace ms {

int cmdTrain(int, char**) {
  throw UserError("'cmd_train' is not built yet");
}

}  // namespace ms
