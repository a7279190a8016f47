// Screenshots from the app: one press of `s` (or the button) exports each embedding view on screen, off the
// UI thread. The exports run in order on the view thread (app/view_thread.h); each frame books what finished,
// so a press ends in "saved <files>" or in a banner saying why not, and the UI never waits for a file.
#include <algorithm>
#include <ctime>
#include <filesystem>

#include "app/gui_frame.h"
#include "sim/errors.h"

namespace ms {

namespace fs = std::filesystem;

// Presses whose files are still being written, at most: beyond it a press says why it saved nothing rather
// than growing a queue the view thread may need minutes for on a busy machine.
constexpr int kMaxShotsInFlight = 4;

// One press of `s` (or the button): each embedding view on screen is exported at the chosen scale, off the
// UI thread (the view thread draws PNGs; SVGs are written there too). The press ends in pollScreenshots.
void takeScreenshots(AppState& s, Session& sess) {
  s.screenshots_pressed += 1;
  if ((int)s.shots.presses.size() >= kMaxShotsInFlight) {
    s.error = "screenshot not taken: the last " + std::to_string(kMaxShotsInFlight) +
              " are still being saved (the computer is busy); press again in a moment";
    s.screenshots_failed += 1;
    return;
  }
  const int64_t press = s.shots.next_press++;
  std::vector<ViewThread::Export> jobs;
  for (const ViewSlot& v : s.views) {
    if (v.kind == ViewKind::Input) continue;
    const SnapshotPtr& snap = s.run[v.run].snapshot;
    if (!snap) continue;
    ViewThread::Export e;
    e.snap = snap;
    e.tag = press;
    e.view = s.run[v.run].view;
    e.view.kind = v.kind;
    e.view.theme = Theme::Paper;
    e.ex.width = std::max(64, (int)v.w);
    e.ex.height = std::max(64, (int)v.h);
    e.ex.scale = (float)std::clamp(s.shot.scale, 1, 8);
    e.ex.background = s.shot.transparent ? Background::Transparent : Background::White;
    e.svg = s.shot.format == ShotFormat::Svg && v.kind != ViewKind::Sphere;
    const std::string suffix = s.compare ? (v.run ? "-B-" : "-A-") + snap->loss : std::string();
    e.path = screenshotPath(s, suffix, e.svg ? "svg" : "png");
    s.shots.paths.insert(e.path);  // the next view (or press) in this second gets another name
    jobs.push_back(std::move(e));
  }
  if (jobs.empty()) {
    s.error = "screenshot not taken: no view has anything to show yet";
    s.screenshots_failed += 1;
    return;
  }
  ShotsInFlight::Press& p = s.shots.presses[press];
  p.remaining = (int)jobs.size();
  if (sess.views) {
    for (ViewThread::Export& e : jobs) sess.views->submitExport(std::move(e));
    setStatus(s, "saving the screenshot...");
    return;
  }
  // No GL renderer (tests, --no-renderer): SVGs are written here, PNGs are explained.
  std::vector<ViewThread::ExportDone> done;
  for (const ViewThread::Export& e : jobs) {
    ViewThread::ExportDone d{e.path, "", press};
    try {
      if (!e.svg) throw UserError("no OpenGL renderer: screenshots need the GL view");
      exportSvg(*e.snap, e.view, e.ex, e.path);
    } catch (const std::exception& x) {
      d.error = x.what();
    }
    done.push_back(d);
  }
  finishScreenshots(s, done);
}

void finishScreenshots(AppState& s, const std::vector<ViewThread::ExportDone>& done) {
  for (const ViewThread::ExportDone& d : done) {
    s.shots.paths.erase(d.path);
    auto it = s.shots.presses.find(d.tag);
    if (it == s.shots.presses.end()) continue;
    ShotsInFlight::Press& p = it->second;
    if (!d.error.empty()) {
      s.error = "screenshot failed: " + d.error;
      p.failed = true;
    } else {
      std::error_code ec;
      const fs::path abs = fs::absolute(d.path, ec);
      p.saved += (p.saved.empty() ? "" : ", ") + (ec ? d.path : abs.string());
    }
    if (--p.remaining > 0) continue;
    if (p.failed) {
      s.screenshots_failed += 1;
    } else {
      setStatus(s, "saved " + p.saved);
      s.screenshots_taken += 1;
    }
    s.shots.presses.erase(it);
  }
}

std::string screenshotPath(const AppState& s, const std::string& suffix, const std::string& ext) {
  char stamp[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  const std::string dir = s.shot.out_dir.empty() ? "." : s.shot.out_dir;
  const std::string base = dir + "/" + s.preset_name + "-" + stamp + suffix;
  std::string path = base + "." + ext;
  std::error_code ec;
  for (int k = 2; fs::exists(path, ec) || s.shots.paths.count(path); ++k)
    path = base + "-" + std::to_string(k) + "." + ext;
  return path;
}

}  // namespace ms
