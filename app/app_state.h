// Everything the desktop app shows and edits, as one plain struct passed by reference to the panel functions
// (Dear ImGui examples style). Panels only change this struct; app/gui_frame.cpp turns the changes into
// Worker Controls, screenshots and preset I/O, so the panels can be ticked in tests with no window and no
// worker. Nothing here touches GL or a thread.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "render/renderer.h"
#include "sim/config.h"
#include "sim/snapshot.h"

namespace ms {

// One trained model as the UI sees it: the config being edited and what the worker last published.
struct RunState {
  Config config;                   // edited by the panels; pushed to the worker when `dirty`
  bool dirty = false;              // config changed since the last push (applies at the next step, no reset)
  SnapshotPtr snapshot;            // the one on screen (taken from the worker at most 30 times a second)
  double snapshot_time = -1e9;     // when it was taken (app clock)
  ViewOptions view;                // how its embedding view is drawn
  std::string error;               // last UserError from the worker (bad dataset, missing package)
  uint64_t sent_version = 0;       // Controls version of the last push
  double sent_time = 0;            // when it was pushed (seconds, app clock)
  bool waiting_latency = false;    // a push whose first step has not been seen yet
  std::vector<double> latency_ms;  // Controls change -> first snapshot reflecting it, seen by the UI
  std::vector<double> step_latency_ms;  // Controls change -> first step using it, measured by the worker
  // The input view changes only with a metrics refresh (its class map) or a control change; it is handed a
  // snapshot only then, so training frames do not rebuild it.
  SnapshotPtr input_snapshot;
  int64_t input_metrics_step = INT64_MIN;
  uint64_t input_version = UINT64_MAX;
  bool sent_paused = false;  // what the worker was last told
  double sent_speed = 0;
  // The config the worker is known to train (its last push that raised no error). A push the worker refuses
  // (a bad CSV path, a missing Fashion-MNIST) puts this back into `config`, so that every panel shows what
  // is really training; `error` says what was refused.
  Config good_config;
  bool have_good = false;
  Config pushed_config;         // the last push, waiting for a snapshot that reflects it
  uint64_t pushed_version = 0;  // its Controls version; 0: nothing waiting
  std::set<std::string>
      dismissed;  // warning codes whose banner the user closed (shown again when they return)
};

// One curve of the Theory tab's target-logit plot as last drawn (tests read these).
struct TheoryCurve {
  std::string label;
  uint32_t color = 0;  // ImU32; 0 when not shown
  float width = 1;     // line width multiple: the trained loss is drawn thicker
  bool shown = false;
  bool active = false;  // the loss run A trains
};

// A view on screen: which run and what kind, in ImGui display coordinates (logical pixels, y down).
struct ViewSlot {
  int run = 0;
  ViewKind kind = ViewKind::Circle;
  float x = 0, y = 0, w = 0, h = 0;
};

enum class ShotFormat { Png, Svg };

struct ShotOptions {
  int scale = 2;             // 1..8
  bool transparent = false;  // else paper (white)
  ShotFormat format = ShotFormat::Png;
  std::string out_dir = ".";  // where exports go
};

// Screenshots being saved off the UI thread (app/view_thread.h): one press exports each view on screen.
struct ShotsInFlight {
  struct Press {
    int remaining = 0;  // exports of this press not finished yet
    std::string saved;  // the files written so far, comma separated
    bool failed = false;
  };
  std::map<int64_t, Press> presses;  // by press number
  std::set<std::string> paths;       // files promised to a queued export: the next press picks other names
  int64_t next_press = 1;
};

// Requests from panels and shortcuts, consumed once per frame by the frame driver.
struct Requests {
  bool reset = false;
  int single_steps = 0;
  bool screenshot = false;
  bool regenerate = false;  // new data seed
  std::string load_preset;  // path to load
  std::string save_preset;  // path to save
  bool save_overwrite_ok = false;
  bool toggle_fullscreen = false;
  bool start_compare = false;  // turn comparison mode on or off (flag in AppState)
};

// Files the Data and Presets panels offer, listed by the frame driver (panels never touch the file system).
struct FileLists {
  std::vector<std::string> csv, json;  // *.csv and *.json in the current folder, sorted
  std::string folder;                  // that folder
  double time = -1e9;                  // when listed (app clock)
};

struct AppState {
  RunState run[2];       // run[1] is used in comparison mode only
  bool compare = false;  // two losses side by side, same data and seed
  bool paused = false;
  double max_steps_per_second = 0;  // 0 = unlimited
  bool dim3 = false;                // mirrors run[0].config.dim == 3; the 2-D/3-D switch
  double theory_alpha_deg = -1;     // Theory panel's weight angle set by the user; <0: the run's smallest
  std::map<std::string, bool> theory_show;  // the user's tick for a curve (by label); else shownByDefault
  bool theory_large = false;                // the target-logit plot over the embedding view
  std::vector<TheoryCurve> theory_curves;   // as last drawn
  std::array<float, 4> theory_plot{};       // its data frame as last drawn (x0, y0, x1, y1)
  // A preset's "compare" run (its loss and params): ticking compare again restores it, not the contrast.
  bool preset_compare = false;
  Config preset_b;
  std::string csv_path;        // the Data panel's CSV file field
  bool data_csv_open = false;  // the CSV chooser is shown (csv picked, no file loaded yet)
  FileLists files;

  // Presentation
  bool show_panels = true;
  float ui_scale = 1.0f;
  bool fullscreen = false;
  bool show_input_view = true;
  float font_base = 1.0f;   // FontGlobalScale at UI scale 1 (the app loads its font at 2x for sharp scaling)
  float applied_scale = 0;  // UI scale the style was last built for
  std::string open_tab;     // "Metrics", "Theory" or "Presets": selected at the next frame (then cleared)
  std::vector<ViewSlot> views;  // laid out by frame(), drawn by the GL side

  // Presets
  std::string preset_name = "default";  // used in export file names
  std::string preset_title, preset_description;
  std::vector<std::string> preset_files;                        // found in the asset directory
  std::vector<std::string> preset_titles, preset_descriptions;  // from their "title"/"description" keys
  std::string asset_dir;
  std::string save_path = "my_preset.json";
  bool confirm_overwrite = false;  // a save that would overwrite waits for a yes

  ShotOptions shot;
  ShotsInFlight shots;
  Requests req;

  // Messages for the user (shown in the status bar / banner); the newest first.
  std::string status;                  // informational, e.g. "saved /tmp/x.png"
  std::string error;                   // red banner: bad preset, I/O failure
  std::array<float, 4> banner_rect{};  // the banner as last drawn (x0, y0, x1, y1); zero when none
  double status_time = 0;              // when status was set

  // Hover
  std::string hover_text;  // tooltip contents for the point under the mouse

  // Tests: panels record their widgets' screen rectangles (x0, y0, x1, y1) by label so they can be clicked.
  bool record_items = false;
  std::map<std::string, std::array<float, 4>> items;

  // Counters of processed requests (shown nowhere; tests and the report read them).
  int64_t single_steps_sent = 0;
  int64_t resets_sent = 0;
  int64_t screenshots_taken = 0;    // presses whose every file was written
  int64_t screenshots_pressed = 0;  // presses of `s` / the button
  int64_t screenshots_failed = 0;   // presses that ended in a message instead (the banner says why)

  // Frame timing shown in the Training panel (ms)
  std::deque<float> frame_ms;
  double now = 0;  // app clock in seconds, set by the frame driver
};

// Helpers the panels and the frame driver share.
inline void setStatus(AppState& s, const std::string& text) {
  s.status = text;
  s.status_time = s.now;
}

}  // namespace ms
