// Atomic, all-or-nothing file output (declared in render/image_io.h, which explains the contract).
//
// Why O_TMPFILE: a temporary file with a name outlives a process killed mid-write (kill -9, the OOM killer,
// a closed laptop lid that never comes back), and a folder of figures then holds "f.png.tmp.Xy12Ab" files of
// many MB. An unnamed file has no name to leave behind; it gets one (hidden, beside its target) only for the
// instant between linkat and rename. Where the filesystem has no O_TMPFILE the hidden name is made at once
// (mkostemp), and a SIGINT/SIGTERM handler removes whatever hidden names exist when it runs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "render/image_io.h"
#include "sim/errors.h"

namespace ms {

namespace {

// ---- hidden temporary names, removed on SIGINT/SIGTERM (async-signal-safe: fixed slots, unlink only)
constexpr int kSlots = 64;
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 holds a name to remove on a signal
  char name[4096];
};
Slot g_slots[kSlots];
std::atomic<bool> g_handlers{false};

void onSignal(int sig) {
  for (Slot& s : g_slots)
    if (s.state.load() == 2) ::unlink(s.name);
  std::signal(sig, SIG_DFL);  // then die of the signal as if nothing had been installed
  std::raise(sig);
}

void installHandlers() {
  if (g_handlers.exchange(true)) return;
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;  // someone else's
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

int registerName(const std::string& name) {
  installHandlers();
  if (name.size() >= sizeof(Slot::name)) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expect = 0;
    if (g_slots[i].state.compare_exchange_strong(expect, 1)) {
      std::memcpy(g_slots[i].name, name.c_str(), name.size() + 1);
      g_slots[i].state.store(2);
      return i;
    }
  }
  return -1;  // more than 64 at once: still removed on every normal path, just not on a signal
}

void unregisterName(int slot) {
  if (slot >= 0) g_slots[slot].state.store(0);
}

// ---- paths and modes
std::string folderOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseOf(const std::string& path) {
  return path.substr(path.find_last_of('/') + 1);
}

// The process umask without changing it (umask(2) can only be read by setting it, which races other
// threads creating files); Linux reports it in /proc/self/status.
mode_t currentUmask() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Umask:", 0) == 0) return mode_t(std::strtoul(line.c_str() + 6, nullptr, 8) & 0777);
  return 022;
}

// A new file's mode: the replaced file's, or 0666 less the umask.
mode_t outputMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  return 0666 & ~currentUmask();
}

bool writeAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

std::string hiddenName(const std::string& path, int n) {
  const std::string dir = folderOf(path);
  return (dir == "/" ? "" : dir) + "/." + baseOf(path) + ".tmp." + std::to_string(::getpid()) + "." +
         std::to_string(n);
}

}  // namespace

struct OutputBatch::Staged {
  std::string path, key;
  int fd = -1;       // the unnamed file (O_TMPFILE), or -1
  std::string name;  // its hidden name once it has one
  int slot = -1;
  ~Staged() {
    if (fd >= 0) ::close(fd);
    if (!name.empty()) ::unlink(name.c_str());
    unregisterName(slot);
  }
  [[noreturn]] void fail(const std::string& what, int err) const {
    throw UserError((key.empty() ? "" : key + ": ") + "cannot write '" + path + "': " + what +
                    (err ? std::string(": ") + std::strerror(err) : std::string()));
  }
  // Writes the bytes to a temporary file in the target's folder (unnamed where the filesystem allows).
  void write(const std::string& bytes) {
    const mode_t mode = outputMode(path);
    // MS_NAMED_TEMP=1 takes the path of filesystems without O_TMPFILE (for tests/e2e/outputs_atomic.sh).
    static const bool named_only = std::getenv("MS_NAMED_TEMP") != nullptr;
    if (!named_only) fd = ::open(folderOf(path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {  // no O_TMPFILE here: a hidden named file from the start
      for (int n = 0; fd < 0 && n < 100; ++n) {
        name = hiddenName(path, n);
        slot = registerName(name);  // before it exists: a signal in between then removes nothing or it
        fd = ::open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) {
          const int e = errno;
          unregisterName(slot);
          slot = -1;
          errno = e;
          if (e != EEXIST) break;
        }
      }
      if (fd < 0) {
        const int e = errno;
        name.clear();
        fail("cannot create a temporary file in its folder", e);
      }
    }
    // fchmod, not the mode argument of open: that one is reduced by the umask, so a replaced 0644 file
    // would not keep 0644 under umask 077, and mkstemp-style 0600 must not survive the rename.
    if (::fchmod(fd, mode) != 0) fail("cannot set its mode", errno);
    if (!writeAll(fd, bytes)) fail("the write failed", errno);
  }
  // Gives the unnamed file its hidden name (the only moment a kill -9 can leave a file behind).
  void name_it() {
    if (!name.empty()) return;
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    for (int n = 0; n < 100; ++n) {
      const std::string cand = hiddenName(path, n);
      slot = registerName(cand);
      // Through /proc (no privilege needed); without /proc, AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH).
      if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, cand.c_str(), AT_SYMLINK_FOLLOW) == 0 ||
          (errno == ENOENT && ::linkat(fd, "", AT_FDCWD, cand.c_str(), AT_EMPTY_PATH) == 0)) {
        name = cand;
        return;
      }
      const int e = errno;
      unregisterName(slot);
      slot = -1;
      if (e != EEXIST) fail("cannot name its temporary file", e);
    }
    fail("cannot name its temporary file", EEXIST);
  }
  void put_in_place() {
    if (::close(fd) != 0) {
      fd = -1;
      fail("closing the temporary file failed", errno);
    }
    fd = -1;
    if (::rename(name.c_str(), path.c_str()) != 0) fail("cannot rename the temporary file", errno);
    name.clear();
    unregisterName(slot);
    slot = -1;
  }
};

namespace {
thread_local OutputBatch* t_batch = nullptr;
}

OutputBatch::OutputBatch() : outer_(t_batch) {
  t_batch = this;
}

OutputBatch::~OutputBatch() {
  for (Staged* s : staged_) delete s;
  t_batch = outer_;
}

void OutputBatch::expect(const std::string& key, const std::string& path) {
  checkOutputPath(key, path);
  if (path.empty()) return;
  // The same file under two names ("a.png", "./a.png") is caught by its folder's identity plus its name.
  struct stat st {};
  ::stat(folderOf(path).c_str(), &st);
  const std::string id = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + "/" + baseOf(path);
  for (const auto& [other_id, other_key] : ids_)
    if (other_id == id)
      throw UserError(key + ": '" + path + "' is also the file of " + other_key +
                      " (allowed: a different file for each output)");
  ids_.emplace_back(id, key);
  keys_.emplace_back(path, key);
}

void OutputBatch::commit() {
  // Every file gets its hidden name first; only then are they renamed, so a failure before the renames
  // (no space for a directory entry, a folder gone) replaces nothing. A rename of a name just linked in
  // the same folder fails only if the folder changes under us; then the files renamed before it stay.
  for (Staged* s : staged_) s->name_it();
  for (Staged* s : staged_) s->put_in_place();
  for (Staged* s : staged_) delete s;
  staged_.clear();
}

void writeFileAtomic(const std::string& path, const std::string& bytes) {
  auto* s = new OutputBatch::Staged;
  s->path = path;
  OutputBatch* batch = t_batch;
  if (batch)
    for (const auto& [p, k] : batch->keys_)
      if (p == path) s->key = k;
  try {
    s->write(bytes);
    if (!batch) {
      s->name_it();
      s->put_in_place();
      delete s;
      return;
    }
  } catch (...) {
    delete s;
    throw;
  }
  for (OutputBatch::Staged*& old : batch->staged_)  // a second write of one path replaces the first
    if (old->path == path) {
      delete old;
      old = s;
      return;
    }
  batch->staged_.push_back(s);
}

void checkOutputPath(const std::string& key, const std::string& path) {
  if (path.empty()) return;
  auto bad = [&](const std::string& why) {
    throw UserError(key + ": cannot write '" + (path.size() > 200 ? path.substr(0, 200) + "..." : path) +
                    "': " + why);
  };
  if (path.size() >= 4000) bad("the path is longer than 4000 characters");
  if (path.back() == '/') bad("that is a folder (allowed: a file to create or replace)");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) bad("that is a folder (allowed: a file to create or replace)");
    if (!S_ISREG(st.st_mode))
      bad("that is not a regular file (a device, pipe or socket; allowed: a file to create or replace)");
  }
  const std::string dir = folderOf(path);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    bad("folder '" + dir + "' is missing (allowed: a file in an existing folder)");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) bad("folder '" + dir + "' is not writable");
}

}  // namespace ms
