// core/random.h. PyRandom: CPython's random.Random (MT19937 seeded with init_by_array), so that
// seeded components (HalfSpaceTrees, the synthetic stream) draw exactly River's numbers.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace sluice::core {

// Reproduces random.Random(seed) of CPython 3 for a non-negative integer seed, draw for draw.
// Copyable value type; not thread-safe.
class PyRandom {
 public:
  explicit PyRandom(uint64_t seed);

  // One 32-bit MT19937 output (CPython's genrand_uint32).
  uint32_t NextUint32();
  // random(): a double in [0, 1) from two 32-bit words (27 + 26 bits).
  double Random();
  // getrandbits(k) for 0 <= k <= 64.
  uint64_t GetRandBits(int k);
  // _randbelow(n) for n >= 1: rejection sampling on bit_length(n) bits.
  uint64_t RandBelow(uint64_t n);
  // uniform(a, b) = a + (b - a) * random().
  double Uniform(double a, double b);
  // choices(range(n), weights, k=1)[0]: one random(), bisect_right over the running float sums.
  // Requires: weights non-empty with a positive, finite total.
  int WeightedChoice(std::span<const double> weights);
  // gauss(mu, sigma): Box-Muller with CPython's cached second value.
  double Gauss(double mu, double sigma);
  // normalvariate(mu, sigma): Kinderman and Monahan's ratio method.
  double NormalVariate(double mu, double sigma);
  // lognormvariate(mu, sigma) = exp(normalvariate(mu, sigma)).
  double LogNormVariate(double mu, double sigma);
  // expovariate(lambd) = -log(1 - random()) / lambd.
  double ExpoVariate(double lambd);

 private:
  void Twist();

  std::array<uint32_t, 624> mt_;
  int index_;
  double gauss_next_ = 0.0;
  bool has_gauss_next_ = false;
};

}  // namespace sluice::core
