// Fuzz target: the eval-loss request parser (`marginscope eval-loss < request.json`). The input is the
// request; it is fed to the real command through std::cin (its stream buffer swapped for the input) and its
// answer goes to a discarded buffer. A request is either answered or rejected in one line.
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ms;
  std::stringbuf in(std::string(reinterpret_cast<const char*>(data), size)), out;
  std::streambuf* oldIn = std::cin.rdbuf(&in);
  std::streambuf* oldOut = std::cout.rdbuf(&out);
  std::cin.clear();
  char name[] = "eval-loss";
  char* argv[] = {name, nullptr};
  fuzz::expectOnlyUserErrors(
      [&] {
        fuzz::check(cmdEvalLoss(1, argv) == 0, "exit code 0 when no UserError");
        fuzz::check(out.str().rfind("{\"loss\":", 0) == 0, "the answer is a JSON object starting with loss");
      },
      fuzz::Messages::Strict, fuzz::kMaxMessage);  // see fuzz_config.cpp
  std::cin.rdbuf(oldIn);
  std::cout.rdbuf(oldOut);
  return 0;
}
