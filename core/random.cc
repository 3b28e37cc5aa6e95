// core/random.cc. MT19937 as in Matsumoto & Nishimura (1998), seeded the way CPython seeds it
// (init_by_array over the 32-bit words of |seed|), and CPython's derived draws.
#include "core/random.h"

#include <bit>
#include <cmath>

namespace sluice::core {
namespace {

constexpr int kN = 624;
constexpr int kM = 397;

}  // namespace

PyRandom::PyRandom(uint64_t seed) {
  // init_genrand(19650218).
  mt_[0] = 19650218U;
  for (int i = 1; i < kN; ++i) {
    mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  }
  // The key: 32-bit words of the seed, least significant first; [0] for seed 0.
  uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  const int key_length = (seed >> 32) != 0 ? 2 : 1;
  int i = 1;
  int j = 0;
  for (int k = kN > key_length ? kN : key_length; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
             static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    mt_[i] =
        (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;
  index_ = kN;
}

void PyRandom::Twist() {
  for (int k = 0; k < kN; ++k) {
    const uint32_t y = (mt_[k] & 0x80000000U) | (mt_[(k + 1) % kN] & 0x7fffffffU);
    mt_[k] = mt_[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1U) != 0 ? 0x9908b0dfU : 0U);
  }
  index_ = 0;
}

uint32_t PyRandom::NextUint32() {
  if (index_ >= kN) Twist();
  uint32_t y = mt_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

double PyRandom::Random() {
  const uint32_t a = NextUint32() >> 5;
  const uint32_t b = NextUint32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

uint64_t PyRandom::GetRandBits(int k) {
  if (k <= 0) return 0;
  if (k <= 32) return NextUint32() >> (32 - k);
  // Words are drawn least significant first; the last one keeps only the bits still needed.
  const uint64_t low = NextUint32();
  const uint64_t high = NextUint32() >> (64 - k);
  return low | (high << 32);
}

uint64_t PyRandom::RandBelow(uint64_t n) {
  const int k = std::bit_width(n);
  uint64_t r = GetRandBits(k);
  while (r >= n) r = GetRandBits(k);
  return r;
}

double PyRandom::Uniform(double a, double b) { return a + (b - a) * Random(); }

int PyRandom::WeightedChoice(std::span<const double> weights) {
  const int n = static_cast<int>(weights.size());
  // Running float sums, left to right, as itertools.accumulate does.
  double total = 0.0;
  double cumulative[64];
  std::vector<double> spill;
  double* cum = cumulative;
  if (n > 64) {
    spill.resize(static_cast<size_t>(n));
    cum = spill.data();
  }
  for (int i = 0; i < n; ++i) {
    total = i == 0 ? weights[0] : total + weights[i];
    cum[i] = total;
  }
  const double target = Random() * (total + 0.0);
  // bisect_right(cum, target, 0, n - 1): the first index whose running sum exceeds target.
  int lo = 0;
  int hi = n - 1;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (target < cum[mid]) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

double PyRandom::Gauss(double mu, double sigma) {
  double z;
  if (has_gauss_next_) {
    z = gauss_next_;
    has_gauss_next_ = false;
  } else {
    constexpr double kTwoPi = 6.283185307179586;
    const double x2pi = Random() * kTwoPi;
    const double g2rad = std::sqrt(-2.0 * std::log(1.0 - Random()));
    z = std::cos(x2pi) * g2rad;
    gauss_next_ = std::sin(x2pi) * g2rad;
    has_gauss_next_ = true;
  }
  return mu + z * sigma;
}

double PyRandom::NormalVariate(double mu, double sigma) {
  // NV_MAGICCONST = 4 * exp(-0.5) / sqrt(2.0), evaluated as CPython does at import.
  static const double kMagic = 4 * std::exp(-0.5) / std::sqrt(2.0);
  double z;
  while (true) {
    const double u1 = Random();
    const double u2 = 1.0 - Random();
    z = kMagic * (u1 - 0.5) / u2;
    const double zz = z * z / 4.0;
    if (zz <= -std::log(u2)) break;
  }
  return mu + z * sigma;
}

double PyRandom::LogNormVariate(double mu, double sigma) {
  return std::exp(NormalVariate(mu, sigma));
}

double PyRandom::ExpoVariate(double lambd) { return -std::log(1.0 - Random()) / lambd; }

}  // namespace sluice::core
