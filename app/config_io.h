// One Config, parsed from preset JSON and from the command line alike, and written back as JSON.
// Every bad key or value throws UserError naming the key, the value and what is allowed.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "sim/config.h"

namespace ms {

nlohmann::json configToJson(const Config& c);
// Applies the keys present in j on top of c; unknown keys and bad values throw UserError.
void applyConfigJson(const nlohmann::json& j, Config& c);
Config loadConfigFile(const std::string& path);  // throws UserError (missing, malformed, bad key)
// Writes atomically (temp file + rename): nothing half-written on failure.
void saveConfigFile(const Config& c, const std::string& path);
void writeFileAtomic(const std::string& path, const std::string& text);

}  // namespace ms
