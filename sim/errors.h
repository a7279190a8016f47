// User-facing errors. Anything the user can get wrong (a name, a value, a file) throws UserError with one
// line naming the key, the value and what is allowed; the command line turns it into exit code 2 and the GUI
// into a message. Programmer mistakes are asserts, not UserErrors.
#pragma once
#include <stdexcept>
#include <string>

namespace ms {

struct UserError : std::runtime_error {
  explicit UserError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ms
