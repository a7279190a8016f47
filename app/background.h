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
// - worker 1 (weight 820): beside two busy nice-0 processes on two cores it must keep a third of its unloaded
//   rate; its share of two cores is about 2 x 820 / (2 x 1024 + 820) = 0.57 of one (nice 2, weight 655:
//   0.48). Interleaved runs, five each: nice 1 kept 0.40-0.61 (median 0.46) with unloaded frame p99
//   11.2-16.2 ms; nice 2 kept 0.30-0.46 (median 0.45, one run under 1/3) with unloaded p99 12.0-27.3 ms.
//   Nice 10 (weight 110) kept 0.06; nice 0 would be the UI's own. Holding training back while the UI
//   rasterised a frame (tried, two runs) halved the unloaded rate and did not lower the unloaded p99.
// - views 5 (weight 335): the view thread needs far less CPU than training (at most 30 images a second) and
//   competes with the UI frame for the rasteriser, so it yields more; gui_main also hands it new jobs once a
//   frame is rasterised, so that it draws while the UI waits for its next slot.
// A thread's nice value is its own on Linux and is inherited by the threads it creates: call this before
// starting the worker or creating a GL context whose driver starts threads.
#pragma once

namespace ms {

enum class BackgroundRole { Worker, Views };

// How much higher than the UI thread's nice value a role's threads run (added to the caller's own).
int backgroundNice(BackgroundRole role);

// Gives the calling thread (only it, not the process) the nice value of `role`. Raising one's own nice value
// needs no privilege; where the call fails (other systems) the thread keeps its priority.
void runInBackground(BackgroundRole role);

}  // namespace ms
