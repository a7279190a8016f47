// The worker thread (see worker.h). Two small mutexes: one for the Controls (held only to copy them) and one
// for the snapshot pointer (held only to swap or copy a shared_ptr). The Trainer itself is touched by the
// worker thread alone once the thread runs, so readers never wait on a step.
#include "sim/worker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sim/errors.h"
#include "sim/trainer.h"

namespace ms {

namespace {
using Clock = std::chrono::steady_clock;
double secondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

struct Worker::Impl {
  // --- shared with other threads
  mutable std::mutex ctl_mu;
  std::condition_variable cv;
  Controls ctl;
  Clock::time_point ctl_time;  // when ctl.version was written
  bool stop = false;
  mutable std::mutex snap_mu;
  SnapshotPtr snap;
  std::mutex err_mu;
  std::string error;
  std::atomic<double> latency_ms{-1.0};

  // --- worker thread only
  std::unique_ptr<Trainer> trainer;
  Controls initial;
  std::thread thread;

  void publish(SnapshotPtr s) {
    std::lock_guard<std::mutex> lock(snap_mu);
    snap = std::move(s);
  }
  void run();
};

void Worker::Impl::run() {
  // The controls the trainer was built from (set by the constructor before the thread started: a
  // setControls racing with the start must still be seen as a change).
  Controls c = initial;
  uint64_t applied_version, applied_reset;
  applied_version = c.version;
  applied_reset = c.reset_count;
  int pending_single = 0;
  bool div_paused = false, awaiting_latency = false, force_publish = false, force_heavy = false;
  bool dirty = false, heavy_dirty = false;  // steps taken since the last publish / metrics refresh
  Clock::time_point change_time{}, last_step{}, last_publish = Clock::now(), last_heavy = Clock::now();
  double publish_cost = 0, heavy_cost = 0;
  Clock::time_point rate_t0 = Clock::now();
  int64_t rate_steps0 = trainer->stepCount();
  double sps = 0;

  for (;;) {
    // 1. New controls? Apply them at this step boundary.
    bool changed = false;
    {
      std::lock_guard<std::mutex> lock(ctl_mu);
      if (stop) return;
      if (ctl.version != applied_version) {
        c = ctl;
        change_time = ctl_time;
        changed = true;
      }
    }
    if (changed) {
      applied_version = c.version;
      try {
        const bool was_reset = trainer->apply(c.config);
        if (c.reset_count != applied_reset && !was_reset) trainer->reset();
      } catch (const UserError& e) {
        std::lock_guard<std::mutex> lock(err_mu);
        error = e.what();
      }
      if (c.reset_count != applied_reset) {
        applied_reset = c.reset_count;
        rate_steps0 = trainer->stepCount();
        rate_t0 = Clock::now();
      }
      pending_single = c.paused ? pending_single + std::max(0, c.single_steps) : 0;
      div_paused = false;
      awaiting_latency = true;
      force_publish = force_heavy = true;
    }

    // 2. Step, unless paused (single steps excepted) or held back by the speed cap.
    const bool paused = c.paused || div_paused;
    const bool want_step = !paused || pending_single > 0;
    const Clock::time_point now = Clock::now();
    Clock::time_point wake = now + std::chrono::milliseconds(50);
    bool stepped = false;
    if (want_step) {
      const double cap = c.max_steps_per_second;
      const Clock::time_point due = cap > 0 ? last_step + std::chrono::duration_cast<Clock::duration>(
                                                              std::chrono::duration<double>(1.0 / cap))
                                            : now;
      if (now >= due) {
        last_step = now;
        const bool ok = trainer->step();
        stepped = dirty = heavy_dirty = true;
        if (paused) --pending_single;
        if (!ok) {
          div_paused = true;
          force_publish = force_heavy = true;
        }
      } else {
        wake = std::min(wake, due);
      }
    }
    const Clock::time_point after = Clock::now();
    if (awaiting_latency && (stepped || paused)) {
      latency_ms = 1000.0 * secondsBetween(change_time, after);
      trainer->setControlLatencyMs(latency_ms);
      awaiting_latency = false;
    }
    const double window = secondsBetween(rate_t0, after);
    if (window >= 0.25) {
      sps = double(trainer->stepCount() - rate_steps0) / window;
      rate_t0 = after;
      rate_steps0 = trainer->stepCount();
    }

    // 3. Publish at most every ~8 ms (and so that publishing takes at most ~25% of the time).
    const double publish_every = std::max(0.008, 3 * publish_cost);
    const double heavy_every = std::max(0.15, 4 * heavy_cost);
    const bool heavy_due = heavy_dirty && secondsBetween(last_heavy, after) >= heavy_every;
    if (force_publish || heavy_due || (dirty && secondsBetween(last_publish, after) >= publish_every)) {
      const bool heavy = force_heavy || heavy_due;
      const bool now_paused = c.paused || div_paused;
      trainer->setStepsPerSecond(now_paused ? 0.0 : sps);
      SnapshotPtr s = trainer->snapshot(heavy, applied_version);
      std::const_pointer_cast<Snapshot>(s)->paused = now_paused;  // still private to this thread
      publish(std::move(s));
      const Clock::time_point done = Clock::now();
      (heavy ? heavy_cost : publish_cost) = secondsBetween(after, done);
      if (heavy) {
        last_heavy = done;
        heavy_dirty = false;
      }
      last_publish = done;
      force_publish = force_heavy = dirty = false;
    }
    if (stepped && c.max_steps_per_second <= 0) continue;

    // 4. Nothing to do right now: sleep until the next step is due, a publish, or new controls.
    if (dirty)
      wake = std::min(wake, last_publish + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(publish_every)));
    std::unique_lock<std::mutex> lock(ctl_mu);
    cv.wait_until(lock, wake, [&] { return stop || ctl.version != applied_version; });
  }
}

Worker::Worker(const Controls& initial) : impl_(new Impl) {
  impl_->ctl = initial;
  impl_->initial = initial;
  impl_->ctl_time = Clock::now();
  impl_->trainer = std::make_unique<Trainer>(initial.config);  // a bad initial config throws here
  SnapshotPtr s = impl_->trainer->snapshot(true, initial.version);
  std::const_pointer_cast<Snapshot>(s)->paused = initial.paused;
  impl_->publish(std::move(s));
  impl_->thread = std::thread([this] { impl_->run(); });
}

Worker::~Worker() {
  {
    std::lock_guard<std::mutex> lock(impl_->ctl_mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

uint64_t Worker::setControls(Controls c) {
  uint64_t v;
  {
    std::lock_guard<std::mutex> lock(impl_->ctl_mu);
    v = impl_->ctl.version + 1;
    c.version = v;
    impl_->ctl = std::move(c);
    impl_->ctl_time = Clock::now();
  }
  impl_->cv.notify_all();
  return v;
}

Controls Worker::controls() const {
  std::lock_guard<std::mutex> lock(impl_->ctl_mu);
  return impl_->ctl;
}

SnapshotPtr Worker::latest() const {
  std::lock_guard<std::mutex> lock(impl_->snap_mu);
  return impl_->snap;
}

std::string Worker::takeError() {
  std::lock_guard<std::mutex> lock(impl_->err_mu);
  std::string e;
  e.swap(impl_->error);
  return e;
}

double Worker::lastControlLatencyMs() const {
  return impl_->latency_ms.load();
}

}  // namespace ms
