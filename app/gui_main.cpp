// Placeholder until its issue lands: the subcommand exists so that main links.
#include "app/commands.h"
#include "sim/errors.h"

namespace ms {

int cmdGui(int, char**) {
  throw UserError("'gui_main' is not built yet");
}

}  // namespace ms
