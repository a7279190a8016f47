// The MLP kernels compiled for AVX512 (see network_simd.h for why and how it stays apart from the
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
#pragma GCC target("avx2,fma,avx512f")
#ifndef __AVX__
#define __AVX__ 1
#endif
#ifndef __AVX2__
#define __AVX2__ 1
#endif
#ifndef __FMA__
#define __FMA__ 1
#endif
#ifndef __AVX512F__
#define __AVX512F__ 1
#endif
// GCC 12 warns falsely inside its own AVX-512 unpack intrinsics (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
// Eigen's fast AVX-512 square root (rsqrt14 and a Newton step) is not correctly rounded, so an element of the
// Adam update differed between the packet body and the scalar peel, i.e. with the buffer's alignment: the
// exact square root keeps a run independent of where the heap puts it (tests/e2e/heap_independent.sh).
#define EIGEN_FAST_MATH 0
#define Eigen Eigen_ms_avx512
#define MS_SIMD_NS avx512
#define MS_SIMD_TABLE avx512Kernels
#include "sim/network_kernels.h"
#else
#include "sim/network_simd.h"
namespace ms {
const SimdKernels* avx512Kernels() {
  return nullptr;
}
}  // namespace ms
#endif
