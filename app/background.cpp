#include "app/background.h"

#include <algorithm>
#include <cerrno>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ms {

int backgroundNice(BackgroundRole role) {
  switch (role) {
    case BackgroundRole::Worker:
      return 1;
    case BackgroundRole::Views:
      return 5;
  }
  return 5;
}

void runInBackground(BackgroundRole role) {
#if defined(__linux__)
  // PRIO_PROCESS with a thread id reads and sets that thread's nice value alone (Linux keeps it per thread).
  // Relative to the caller's own: under `nice -n 5 marginscope` the worker goes to 7, not up to 2.
  const id_t tid = (id_t)::syscall(SYS_gettid);
  errno = 0;
  const int own = ::getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  (void)::setpriority(PRIO_PROCESS, tid, std::min(19, own + backgroundNice(role)));
#else
  (void)role;
#endif
}

}  // namespace ms
