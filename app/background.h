// Thread priority for the app's background work (training, drawing the views).
#pragma once

namespace ms {

// Puts the calling thread in Linux's SCHED_IDLE class: it runs only on CPU time that no normal thread wants,
// and a waking UI thread (or one of the rasteriser's threads) takes its core at once. Threads it creates
// afterwards inherit the class, so call it before creating a GL context whose driver starts threads.
// On two cores with a software rasteriser, a worker at normal priority took one of the cores a frame needs
// and doubled the frame time; even at nice 10 the frame tails stayed above 16.7 ms. Best effort: where the
// call fails (other systems), the thread keeps its priority.
void runInBackground();

}  // namespace ms
