// The MLP kernels compiled for AVX2 (see network_simd.h for why and how it stays apart from the
// baseline build). Only called when detectSimd() says the CPU has these instructions.
//
// The standard headers come first so that their functions keep the baseline target; then the target
// pragma, the macros Eigen reads to pick its vector paths (GCC's pragma does not define them), and Eigen
// under its own namespace name.
#include <algorithm>
#include <array>
#include <cassert>
#include <cfloat>
#include <climits>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iosfwd>
#include <iostream>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("avx2,fma")
#ifndef __AVX__
#define __AVX__ 1
#endif
#ifndef __AVX2__
#define __AVX2__ 1
#endif
#ifndef __FMA__
#define __FMA__ 1
#endif
// GCC 12 warns falsely inside its own AVX-512 unpack intrinsics (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define Eigen Eigen_ms_avx2
#define MS_SIMD_NS avx2
#define MS_SIMD_TABLE avx2Kernels
#include "sim/network_kernels.h"
#else
#include "sim/network_simd.h"
namespace ms {
const SimdKernels* avx2Kernels() {
  return nullptr;
}
}  // namespace ms
#endif
