#include "app/background.h"

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ms {

int backgroundNice(BackgroundRole role) {
  switch (role) {
    case BackgroundRole::Worker:
      return 2;
    case BackgroundRole::Views:
      return 5;
  }
  return 5;
}

void runInBackground(BackgroundRole role) {
#if defined(__linux__)
  // PRIO_PROCESS with a thread id sets that thread's nice value alone (Linux keeps it per thread).
  const id_t tid = (id_t)::syscall(SYS_gettid);
  (void)::setpriority(PRIO_PROCESS, tid, backgroundNice(role));
#else
  (void)role;
#endif
}

}  // namespace ms
