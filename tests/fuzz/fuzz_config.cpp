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
  // Messages are one line of at most kMaxMessage bytes besides the path (fuzz_common.h); the finding_* seeds
  // are messages that once echoed a value of any length or a newline.
  fuzz::expectOnlyUserErrors(
      [&] {
        const Config c = loadConfigFile(path);
        const nlohmann::json j = configToJson(c);
        Config again;
        applyConfigJson(j, again);
        validateConfig(again);
        fuzz::check(configToJson(again) == j, "a loaded preset saves and loads back unchanged");
      },
      fuzz::Messages::Strict, path.size() + fuzz::kMaxMessage);
  return 0;
}
