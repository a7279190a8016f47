// Fuzz target: the preset/config parser (`--config FILE`, the GUI's presets). The input is the preset file.
// A preset either loads or is rejected in one line; one that loads must survive `--save-config` and loading
// again unchanged (configToJson -> applyConfigJson -> configToJson is the identity).
#include <cstddef>
#include <cstdint>

#include "app/config_io.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ms;
  const std::string path = fuzz::tempDir() + "/preset.json";
  fuzz::writeFile(path, data, size);
  // Messages are checked leniently (see fuzz_common.h): the finding_* seeds echo values of any length and
  // with newlines until the app's messages are bounded; MS_FUZZ_STRICT_MESSAGES=1 checks them.
  fuzz::expectOnlyUserErrors(
      [&] {
        const Config c = loadConfigFile(path);
        const nlohmann::json j = configToJson(c);
        Config again;
        applyConfigJson(j, again);
        validateConfig(again);
        fuzz::check(configToJson(again) == j, "a loaded preset saves and loads back unchanged");
      },
      fuzz::Messages::Lenient);
  return 0;
}
