// Training failures said out loud (issue 12): divergence, collapse, a dead class and a learning rate that
// makes the loss swing. The detectors only observe: they read the embeddings, the rule's decisions and the
// recent batch losses, never change training. Every Snapshot carries the list (snapshot_build.cpp); the
// metrics JSON writes it as "warnings": [{code, message}], and the commands print it with printWarnings.
//
// Definitions (the constants are below):
//   diverged       the trainer stopped on a non-finite loss, gradient or parameter (its own message).
//   collapse       after kMinSteps steps, all class mean directions of the training embeddings lie within
//                  kCollapseDeg of each other, or the training accuracy is below chance 1/K + kChanceMargin.
//   dead_class     after kMinSteps steps, a class with training samples that the rule predicts for none of
//                  them (its region is empty); the message names the weights nearest to its weight, with
//                  their angles, and where its samples go. Not reported when collapse is (it implies it).
//   lr_oscillation the batch losses of the last kOscWindow steps, as means of kOscBlock-step blocks
//                  (averaging out batch-to-batch noise), rise by a factor kOscFactor from their low, fall by
//                  that factor from the peak and rise by it again (at least kOscSwings rises).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/loss.h"

namespace ms {

struct Warning {
  std::string code;     // diverged | collapse | dead_class | lr_oscillation
  std::string message;  // one line: what, the numbers, and what to try
};

constexpr int64_t kMinSteps = 200;      // collapse and dead_class wait this long (a fresh network is random)
constexpr double kCollapseDeg = 5;      // all class directions within this angle of each other
constexpr double kChanceMargin = 0.05;  // accuracy below 1/K + this counts as chance
constexpr int kOscWindow = 256, kOscBlock = 8;
constexpr double kOscFactor = 3;
constexpr int kOscSwings = 3;

// What the detectors look at; pointers are borrowed for the call and may be null (that detector is skipped).
struct WarningInput {
  int64_t step = 0;
  int K = 0;                                    // trained classes
  double lr = 0;                                // for the advice
  bool diverged = false;                        //
  std::string diverged_message;                 //
  const Mat* H = nullptr;                       // (n,d) training embeddings (the display subset)
  const std::vector<int>* labels = nullptr;     // (n) in 0..K-1
  const std::vector<int>* predicted = nullptr;  // (n) the rule's class for each
  const Mat* W = nullptr;         // (K,d) class weights (or class mean directions: metric losses)
  bool W_are_directions = false;  // wording: "class direction" instead of "weight"
  double train_accuracy = -1;     // < 0: unknown
  const std::vector<double>* recent_losses = nullptr;  // batch losses, oldest first (up to kOscWindow)
};

std::vector<Warning> detectWarnings(const WarningInput& in);

// The lr_oscillation test alone (see the top of the file). On true, *swings, *low and *high describe it.
bool lossOscillates(const std::vector<double>& losses, int* swings, double* low, double* high);

// Each warning as one line "warning: CODE: message" (for `train` and `render`, on stderr).
void printWarnings(const std::vector<Warning>& warnings, std::FILE* out = stderr);

}  // namespace ms
