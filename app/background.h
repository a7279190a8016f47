// Thread priority for the app's background work: training (the worker), drawing the views and exports (the
// view thread, with the rasteriser threads Mesa's llvmpipe starts for its context).
//
// Both run in the normal scheduling class with a higher nice value than the UI, never in Linux's idle class
// (as they once did): an idle-class thread gets CPU only when nothing else wants it, so beside a video call
// and a browser on a two-core lecture laptop training fell from 1,476 to 14.7 steps/s and a screenshot that
// waited on the view thread froze the UI for 19 s. With a nice value, CFS/EEVDF gives each thread a share by
// weight (nice 0 is 1024, each step about 1.25x less): enough that training keeps a fair share beside busy
// processes, while a UI thread (nice 0) waking for a frame is still picked first and gets the larger part
// of a shared core.
//
// Why these values (scripts/load_test.sh; the README's performance table has the figures and their caveat):
// - worker 2 (weight 655): beside two busy nice-0 processes on two cores it must keep a third of its unloaded
//   rate, and its share of what the UI leaves is about 655 / (2 x 1024 + 655); measured 0.26-0.60 of the
//   unloaded rate over four runs, where nice 10 (weight 110) kept 0.06. Nice 0 would be the UI's own.
// - views 5 (weight 335): the view thread needs far less CPU than training (at most 30 images a second) and
//   competes with the UI frame for the rasteriser, so it yields more; gui_main also hands it new jobs once a
//   frame is rasterised, so that it draws while the UI waits for its next slot.
// A thread's nice value is its own on Linux and is inherited by the threads it creates: call this before
// starting the worker or creating a GL context whose driver starts threads.
#pragma once

namespace ms {

enum class BackgroundRole { Worker, Views };

// The nice value of a role's threads.
int backgroundNice(BackgroundRole role);

// Gives the calling thread (only it, not the process) the nice value of `role`. Raising one's own nice value
// needs no privilege; where the call fails (other systems) the thread keeps its priority.
void runInBackground(BackgroundRole role);

}  // namespace ms
