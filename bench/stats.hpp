// stats: the few figures every benchmark prints, for the benchmarks that
// need nothing else of the harness (bench/rules, bench/dedup,
// bench/plugins).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace relais::bench {

// What the benchmarks quote: the middle run, not the best.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// 20000 as "20,000".
inline std::string thousands(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace relais::bench
