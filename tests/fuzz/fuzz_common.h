// What every fuzz target checks, beyond "no crash and no sanitizer report": a parser either succeeds or
// throws ms::UserError whose message is one line (DESIGN.md "Contracts"), of bounded length where the target
// asks for it. Any other exception is a bug (the command line would print "internal error", exit 1), so it
// aborts and libFuzzer keeps the input as a reproducer. Inputs reach the file readers through a private
// temporary folder, so that the fuzzers run the same code as `--dataset csv:PATH` and `--config FILE`.
#pragma once
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "sim/errors.h"

namespace ms::fuzz {

inline const std::string& tempDir();

// At exit (libFuzzer exits normally after -max_total_time or -runs): the folder and its files go.
inline void removeTempDir() {
  const std::string& d = tempDir();
  if (DIR* dir = opendir(d.c_str())) {
    while (const dirent* e = readdir(dir))
      if (e->d_name[0] != '.') std::remove((d + "/" + e->d_name).c_str());
    closedir(dir);
  }
  rmdir(d.c_str());
}

// A folder of our own, made once per process: under $TMPDIR if set, else in /dev/shm (memory: writing the
// input to a disk-backed /tmp costs 5-10 times the parse itself), else /tmp.
inline const std::string& tempDir() {
  // Never destroyed: removeTempDir runs at exit, after static objects made later than atexit() are gone.
  static const std::string* dir = [] {
    const char* env = std::getenv("TMPDIR");
    std::string base = env && *env ? env : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string t = base + "/ms_fuzz_XXXXXX";
    if (!mkdtemp(t.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::atexit(removeTempDir);
    return new std::string(t);
  }();
  return *dir;
}

inline void writeFile(const std::string& path, const void* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

// How strictly a target's messages are checked. Strict (every target now): one line of at most maxLen bytes.
// Lenient: any message, unless MS_FUZZ_STRICT_MESSAGES=1 asks for one line of at most kMaxMessage bytes.
// Either way, an exception that is not a UserError aborts.
enum class Messages { Strict, Lenient };
// The longest message the app parsers may give, path aside: a key, a value cut to 40 characters, and the
// list of what is allowed (the config keys, the loss names) fit well inside it.
constexpr size_t kMaxMessage = 1200;

// Runs f; checks a UserError's message as above; anything else aborts.
template <class F>
void expectOnlyUserErrors(F&& f, Messages kind, size_t maxLen = 0) {
  static const bool strictAsked = [] {
    const char* e = std::getenv("MS_FUZZ_STRICT_MESSAGES");
    return e && std::string(e) == "1";
  }();
  const bool check = kind == Messages::Strict || strictAsked;
  const size_t limit = kind == Messages::Strict ? maxLen : kMaxMessage;
  try {
    f();
  } catch (const UserError& e) {
    const std::string m = e.what();
    if (check && (m.find('\n') != std::string::npos || m.find('\r') != std::string::npos)) {
      std::fprintf(stderr, "fuzz: a UserError message spans lines: %.300s\n", m.c_str());
      std::abort();
    }
    if (check && limit > 0 && m.size() > limit) {
      std::fprintf(stderr, "fuzz: a UserError message has %zu bytes (allowed %zu): %.300s...\n", m.size(),
                   limit, m.c_str());
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: not a UserError (the command line would exit 1): %s\n", e.what());
    std::abort();
  }
}

// A broken invariant of a successful parse.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace ms::fuzz
