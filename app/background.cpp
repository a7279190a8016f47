#include "app/background.h"

#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>
#endif

namespace ms {

void runInBackground() {
#if defined(__linux__)
  sched_param p{};
  if (::sched_setscheduler(0, SCHED_IDLE, &p) != 0)  // 0: this thread
    (void)::setpriority(PRIO_PROCESS, 0, 19);        // the next best thing
#endif
}

}  // namespace ms
