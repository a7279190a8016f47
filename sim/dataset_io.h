// The dataset file readers (sim/dataset_io.cpp): Fashion-MNIST's idx.gz files and the user's CSV. Internal to
// sim/dataset.cpp, declared here so that the two can be read, tested and fuzzed on their own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ms {

// One split ("train" or "t10k") of Fashion-MNIST from dir: images (n,784) as bytes, labels (n) in 0..9.
// Throws UserError for a missing, corrupt, truncated or oversized file, naming the file and the apt command.
void readFashionIdx(const std::string& dir, const std::string& prefix, std::vector<uint8_t>& pix,
                    std::vector<uint8_t>& lab, int& n);

// A CSV file with header x1,...,xP,label: P >= 1 finite features of magnitude <= 1e30 per row and integer
// labels 0..K-1 with every class present, at least 4 rows. Throws UserError naming the line and the token.
struct CsvTable {
  std::vector<std::vector<double>> x;  // (n)(P)
  std::vector<int> y;                  // (n)
  int P = 1, K = 2;
};
CsvTable readCsvTable(const std::string& path);

}  // namespace ms
