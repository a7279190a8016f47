// Widgets and number formatting shared by the panel files (app/panels*.cpp); not part of the panels' API.
// Numbers go through shownNumber so that no panel ever prints "nan", "inf" or "-0.00": an undefined value is
// "-" with a tooltip saying why.
#pragma once
#include <string>
#include <vector>

#include "app/app_state.h"
#include "sim/loss.h"

namespace ms {

bool sliderDouble(const char* label, double* v, double lo, double hi, bool log = false,
                  const char* fmt = "%.4g");
// Data and model edits reset the run, so they are sent when the user lets go of the widget, not per drag.
void markOnRelease(RunState& r);
bool comboStrings(const char* label, std::string& value, const std::vector<std::string>& items);
// Keeps the next button on this line when it fits in the window, else starts a new line.
void sameLineIfFits(const char* next_label);
const LossSpec* tryFindLoss(const std::string& name);
double curParam(const RunState& r, const LossSpec& spec, const std::string& name);

// printf of one number, or "-" when it is not finite; "-0.00" (a negative that rounds to zero) prints as
// "0.00". Text around the number is kept: printed("TAR %.3f", nan) is "TAR -".
std::string printed(const char* fmt, double v);
// One number as a widget: the text, or a disabled "-" whose tooltip is `why` when v is not finite.
void numberText(const char* fmt, double v, const char* why);
// A line of phrases that never break inside (see panels_metrics.cpp).
void phrases(const std::vector<std::string>& parts);

}  // namespace ms
