// Placeholder until its issue lands: the subcommand exists so that main links.
#include "app/commands.h"
#include "sim/errors.h"

namespace ms {

int cmdLosses(int, char**) {
  throw UserError("'cmd_losses' is not built yet");
}

}  // namespace ms
