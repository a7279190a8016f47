// Datasets: seeded toy sets (blobs, spirals, rings, moons, xor), Fashion-MNIST from Debian's idx.gz files and
// the user's CSV, each split into train and test, standardised with the training statistics.
//
// Labels are remapped so that the trained classes are 0..K-1 and held-out classes (open-set evaluation)
// are K..K_all-1; held-out classes appear only in the test split. Inputs are stored as float, row-major
// (n,P), so that gathering a batch copies contiguous rows (Fashion-MNIST at full size is 70,000 x 784).
#pragma once
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "sim/config.h"

namespace ms {

using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Dataset {
  std::string name;                      // dataset family ("blobs", "fashion-mnist", "csv", ...)
  int P = 2;                             // input dimension
  int K = 2;                             // trained classes (classifier outputs)
  int K_all = 2;                         // trained + held-out classes
  MatF X_train;                          // (n,P) standardised
  std::vector<int> y_train;              // (n) labels in 0..K-1 (label noise already applied)
  MatF X_test;                           // (m,P) standardised
  std::vector<int> y_test;               // (m) labels in 0..K_all-1
  std::vector<int> holdout;              // remapped labels of held-out classes (K..K_all-1)
  std::vector<int> class_counts;         // (K) training samples per class
  std::vector<std::string> class_names;  // (K_all) in remapped order
};

// The dataset names a Config accepts, in the order help texts list them: blobs, spirals, rings, moons, xor,
// checkerboard (another name of xor), fashion-mnist and "csv:PATH", which stands for "csv:" followed by the
// path of the user's CSV file. validateConfig checks names and words its message with this list.
const std::vector<std::string>& datasetNames();

// Builds the dataset a config asks for. Throws UserError naming the key (bad name, range, missing or corrupt
// file; for Fashion-MNIST the apt command that installs it).
Dataset makeDataset(const Config& c);

// Inverse-frequency class weights normalised to mean 1 (weighted softmax, range loss on long tails).
std::vector<double> inverseFrequencyWeights(const Dataset& d);

}  // namespace ms
