// The one configuration struct: what to train and how. Parsed alike from the command line and from preset
// JSON (app/config_io.cpp); defaults are written beside each field. No GL, no JSON here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/loss.h"

namespace ms {

struct Config {
  // --- data
  std::string dataset = "blobs";  // blobs|spirals|rings|moons|xor|fashion-mnist|csv:PATH
  int classes = 5;                // K (toy sets; fashion-mnist uses 10 minus held-out)
  int samples = 200;              // per class (toy sets); fashion-mnist: per-class cap, 0 = all
  int input_dim = 2;              // P for blobs (others are 2-D)
  double spread = 1.0;            // blob standard deviation relative to centre distance
  double noise = 0.1;             // geometric noise of spirals/rings/moons/xor
  double imbalance = 1.0;         // ratio largest/smallest class size (1 = balanced)
  double label_noise = 0.0;       // fraction of training labels flipped at random
  double test_fraction = 0.25;    // toy sets: share held out as the test split
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::vector<int> holdout_classes;  // trained on none of these; open-set evaluation

  // --- model
  int dim = 2;                // embedding dimension d (2 or 3 for the views, up to 64 headless)
  std::string model = "mlp";  // mlp|free
  std::vector<int> hidden = {64, 64};
  std::string activation = "relu";  // relu|tanh

  // --- loss
  std::string loss = "arcface";
  LossParams params;  // only the ones given; the catalogue supplies defaults

  // --- optimisation
  std::string optimizer = "adam";  // sgd|adam
  double lr = 0.01;
  double momentum = 0.9;  // sgd
  bool nesterov = false;  // sgd
  double weight_decay = 5e-4;
  std::string schedule = "constant";  // constant|step|cosine
  double lr_weights = -1;             // class weights/centres; <0: same as lr
  double clip = 0;                    // gradient-norm clip; 0 = off
  int batch = 256;
  int steps = 2000;
  uint64_t seed = 1;

  // --- display (what snapshots carry; no effect on training)
  int display_points = 0;  // embeddings per snapshot, train + test; 0 = auto (10,000, or 2,000 for P > 64)
  int grid = 96;           // input-space class map resolution (2-D inputs), 0 = off
};

// Checks every field (names and ranges) except the loss parameters, which need K (validateParams).
// Throws UserError naming the key, the value and what is allowed. Defined in config.cpp; the dataset names
// come from datasetNames() (sim/dataset.h).
void validateConfig(const Config& c);

}  // namespace ms
