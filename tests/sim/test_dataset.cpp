// Datasets: seeded and reproducible, the sizes, split, imbalance, label noise and held-out classes the config
// asks for, standardised inputs, CSV parsing and its errors, and Fashion-MNIST (read from the Debian package
// when it is installed; a missing folder must name the apt command).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

#include <sys/stat.h>

#include "sim/dataset.h"
#include "sim/errors.h"

namespace ms {
namespace {

std::string errorOf(const Config& c) {
  try {
    makeDataset(c);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Dataset, SameSeedSameData) {
  for (const char* name : {"blobs", "spirals", "rings", "moons", "xor", "checkerboard"}) {
    Config c;
    c.dataset = name;
    c.seed = 11;
    const Dataset a = makeDataset(c), b = makeDataset(c);
    EXPECT_TRUE(a.X_train == b.X_train) << name;
    EXPECT_EQ(a.y_test, b.y_test) << name;
    c.seed = 12;
    const Dataset e = makeDataset(c);
    EXPECT_FALSE(a.X_train.rows() == e.X_train.rows() && a.X_train == e.X_train) << name;
  }
}

TEST(Dataset, SizesAndSplit) {
  Config c;
  c.dataset = "spirals";
  c.classes = 4;
  c.samples = 100;
  c.test_fraction = 0.25;
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.K, 4);
  EXPECT_EQ(d.P, 2);
  EXPECT_EQ(d.X_train.rows(), 4 * 75);
  EXPECT_EQ(d.X_test.rows(), 4 * 25);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(d.class_counts[k], 75);
}

TEST(Dataset, BlobsInManyDimensionsAreStandardised) {
  Config c;
  c.input_dim = 7;
  c.classes = 3;
  c.samples = 400;
  const Dataset d = makeDataset(c);
  ASSERT_EQ(d.P, 7);
  const Eigen::MatrixXd X = d.X_train.cast<double>();
  const Eigen::RowVectorXd mean = X.colwise().mean();
  for (int p = 0; p < 7; ++p) {
    EXPECT_NEAR(mean(p), 0.0, 1e-5);
    EXPECT_NEAR((X.col(p).array() - mean(p)).square().mean(), 1.0, 1e-4);
  }
}

TEST(Dataset, ImbalanceRatio) {
  Config c;
  c.classes = 5;
  c.samples = 200;
  c.imbalance = 10;
  c.test_fraction = 0;
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.class_counts[0], 200);
  EXPECT_EQ(d.class_counts[4], 20);
  EXPECT_GT(d.class_counts[1], d.class_counts[2]);
  const std::vector<double> w = inverseFrequencyWeights(d);
  EXPECT_NEAR(w[4] / w[0], 10.0, 1e-12);
  double s = 0;
  for (double v : w) s += v;
  EXPECT_NEAR(s, 5.0, 1e-12);
}

TEST(Dataset, LabelNoiseFlipsAboutTheFractionOfTrainingLabelsOnly) {
  Config c;
  c.classes = 4;
  c.samples = 2000;
  Config clean = c;
  c.label_noise = 0.3;
  const Dataset a = makeDataset(clean), b = makeDataset(c);
  ASSERT_EQ(a.y_train.size(), b.y_train.size());
  int flipped = 0;
  for (size_t i = 0; i < a.y_train.size(); ++i) flipped += a.y_train[i] != b.y_train[i];
  EXPECT_NEAR(double(flipped) / a.y_train.size(), 0.3, 0.03);
  EXPECT_EQ(a.y_test, b.y_test);
}

TEST(Dataset, HeldOutClassesOnlyInTest) {
  Config c;
  c.classes = 5;
  c.holdout_classes = {1, 3};
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.K, 3);
  EXPECT_EQ(d.K_all, 5);
  EXPECT_EQ(d.holdout, (std::vector<int>{3, 4}));
  for (int y : d.y_train) EXPECT_LT(y, 3);
  std::set<int> seen(d.y_test.begin(), d.y_test.end());
  EXPECT_TRUE(seen.count(3) && seen.count(4));
  EXPECT_EQ(d.class_names[3], "1");
  c.holdout_classes = {7};
  EXPECT_NE(errorOf(c).find("holdout_classes"), std::string::npos);
  c.holdout_classes = {0, 1, 2, 3};
  EXPECT_NE(errorOf(c).find("at least 2"), std::string::npos);
}

TEST(Dataset, XorWithTwoClassesIsTheClassicXor) {
  Config c;
  c.dataset = "xor";
  c.classes = 2;
  c.noise = 0;
  c.samples = 400;
  c.test_fraction = 0;
  const Dataset d = makeDataset(c);
  // Standardisation keeps the signs (the board is symmetric about 0): class = [x0 * x1 < 0].
  int agree = 0;
  for (Eigen::Index i = 0; i < d.X_train.rows(); ++i)
    agree += (d.X_train(i, 0) * d.X_train(i, 1) < 0) == (d.y_train[i] == 1);
  EXPECT_GT(agree, 0.97 * d.X_train.rows());
}

TEST(Dataset, Csv) {
  const std::string path = testing::TempDir() + "ms_test.csv";
  {
    std::ofstream f(path);
    f << "x1,x2,x3,label\n";
    for (int i = 0; i < 40; ++i) f << i << "," << -i << "," << i * 0.5 << "," << i % 3 << "\n";
  }
  Config c;
  c.dataset = "csv:" + path;
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.P, 3);
  EXPECT_EQ(d.K, 3);
  EXPECT_EQ(d.X_train.rows() + d.X_test.rows(), 40);
  {
    std::ofstream f(path);
    f << "x1,x2,label\n1,2,0\n1,oops,1\n";
  }
  EXPECT_NE(errorOf(c).find("oops"), std::string::npos);
  {
    std::ofstream f(path);
    f << "a,b,label\n1,2,0\n";
  }
  EXPECT_NE(errorOf(c).find("header"), std::string::npos);
  std::remove(path.c_str());
  EXPECT_NE(errorOf(c).find("cannot open"), std::string::npos);
}

TEST(Dataset, UnknownName) {
  Config c;
  c.dataset = "mnist";
  const std::string e = errorOf(c);
  EXPECT_NE(e.find("mnist"), std::string::npos);
  EXPECT_NE(e.find("spirals"), std::string::npos);
}

TEST(Dataset, FashionMnistMissingNamesTheAptCommand) {
  Config c;
  c.dataset = "fashion-mnist";
  c.data_dir = "/nonexistent/fmnist";
  const std::string e = errorOf(c);
  EXPECT_NE(e.find("apt-get install dataset-fashion-mnist"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(Dataset, FashionMnistCorruptFile) {
  const std::string dir = testing::TempDir() + "ms_fm_corrupt";
  mkdir(dir.c_str(), 0755);
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    std::ofstream o(dir + "/" + f);
    o << "this is not gzip";  // zlib reads it as plain data: the idx header check must catch it
  }
  Config c;
  c.dataset = "fashion-mnist";
  c.data_dir = dir;
  const std::string e = errorOf(c);
  EXPECT_NE(e.find("idx3"), std::string::npos) << e;
  EXPECT_NE(e.find("apt-get install"), std::string::npos) << e;
}

TEST(Dataset, FashionMnistFromTheDebianPackage) {
  Config c;
  c.dataset = "fashion-mnist";
  if (!std::ifstream(c.data_dir + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  c.samples = 50;
  c.holdout_classes = {8, 9};
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.P, 784);
  EXPECT_EQ(d.K, 8);
  EXPECT_EQ(d.X_train.rows(), 8 * 50);
  EXPECT_EQ(d.X_test.rows(), 10 * 50);
  EXPECT_EQ(d.class_names[8], "Bag");
  const double mean = d.X_train.cast<double>().mean();
  EXPECT_NEAR(mean, 0.0, 1e-4);
  EXPECT_NEAR((d.X_train.cast<double>().array() - mean).square().mean(), 1.0, 1e-3);
}

}  // namespace
}  // namespace ms
