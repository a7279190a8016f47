// What the frame driver's files share (app/gui_frame.cpp, gui_presets.cpp, gui_overlays.cpp); not an API.
#pragma once
#include <string>

#include "app/gui_frame.h"

namespace ms {

bool fileExists(const std::string& p);
std::string stem(const std::string& path);  // file name without folder and extension
void listPresets(AppState& s);              // the asset folder's presets with their titles
// *.csv and *.json in the current folder into s.files, at most every two seconds (panels offer them).
void listFiles(AppState& s);
// Compare mode's second run: the loss the lecture contrasts with this one (its definition says which).
std::string otherLoss(const std::string& loss);
// Starts (or restarts) run i's worker on s.run[i].config; false, with s.run[i].error set, when the config is
// refused. `keep_on_error`: a refused config leaves the running worker and snapshot alone.
bool startWorker(AppState& s, Session& sess, int i, bool keep_on_error = false);

struct Layout {
  float side = 0, right = 0, status = 0;
};
void drawViewPlaceholder(const AppState& s, const ViewSlot& v, const Snapshot* snap, bool have_renderer);
void hoverTooltip(AppState& s);
void banners(AppState& s, const Layout& L);
void statusBar(AppState& s, const Layout& L);

}  // namespace ms
