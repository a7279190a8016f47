// The desktop app's panels: plain functions over AppState (Dear ImGui examples style). Each draws widgets
// into the current ImGui window and writes only AppState: config edits mark the run dirty, buttons post
// Requests. Nothing here talks to a worker, GL or the file system, so tests can tick them with no window.
#pragma once
#include <string>

#include "app/app_state.h"
#include "sim/loss.h"

namespace ms {

void panelData(AppState& s);
void panelModel(AppState& s);
void panelLoss(AppState& s, int run);  // run 0, or 1 for the comparison's second loss
void panelTraining(AppState& s);
void panelMetrics(AppState& s);
void panelTheory(AppState& s);
void panelPresets(AppState& s);
void panelView(AppState& s);  // 2-D/3-D switch, what to draw, screenshot options, UI scale, fullscreen

void drawModals(AppState& s);  // the overwrite confirmation; drawn at top level every frame
// A separator with a small title (ImGui 1.86 has no SeparatorText).
void sectionTitle(const char* text);

// Literature settings (Loss panel buttons). Returns false when the catalogue lacks the loss or a parameter.
enum class Literature { ArcFace, CosFace, SphereFace };
bool applyLiterature(RunState& r, Literature which);

// Switches a run to another loss: keeps the parameters the new loss also has (clamped to its ranges), drops
// the rest so the worker never sees a parameter it does not know.
void setLoss(RunState& r, const std::string& name);

// Theory panel. curveAt: target logit at |h| = |w| = 1 over the test logit at theta = 0 (the ArcFace paper's
// target-logit figure on one scale for every loss), lambda = 0. Its boundary table uses sim/lemma.h.
// hnorm: the feature norm where the margin depends on it (MagFace, AdaFace; the panel draws the run's own).
double curveAt(const LossSpec& spec, const LossParams& p, double theta, double hnorm = 1.0);

// Family names for the grouping in the Loss panel.
const char* familyName(int family);

// When AppState::record_items is set, panels note the screen rectangle of their main widgets under their
// label so that tests can click them.
void noteItem(AppState& s, const char* label);

}  // namespace ms
