// Helpers shared by the benchmarks: a scratch directory, latency samples and
// the results that the last "summary:" line reports.
#ifndef LEADLEDGER_BENCH_BENCH_UTIL_H_
#define LEADLEDGER_BENCH_BENCH_UTIL_H_

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace leadledger::bench {

// Empty when flag `name` (without its dashes) is within [lowest, highest];
// else the message that refuses it, naming the flag and the range.
inline std::string FlagOutOfRange(const std::string& name, int64_t value,
                                  int64_t lowest, int64_t highest) {
  if (value >= lowest && value <= highest) return "";
  return absl::StrCat("--", name, " must be ", lowest, " to ", highest,
                      ", got ", value);
}

// CPU time (user and system, all threads) of this process so far, in
// seconds.
inline double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Directories handed out by FreshDir, removed by RemoveFreshDirs.
inline std::vector<std::string>& FreshDirs() {
  static auto* dirs = new std::vector<std::string>();
  return *dirs;
}

// A fresh directory named `name` under $LEADLEDGER_BENCH_DIR (default
// ./var/bench), on the disk the service would use.
inline std::string FreshDir(const std::string& name) {
  const char* base = std::getenv("LEADLEDGER_BENCH_DIR");
  std::filesystem::path dir =
      std::filesystem::path(base != nullptr ? base : "./var/bench") / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir.parent_path());
  FreshDirs().push_back(dir.string());
  return dir.string();
}

// Removes every directory FreshDir handed out (and only those).
inline void RemoveFreshDirs() {
  for (const std::string& dir : FreshDirs()) std::filesystem::remove_all(dir);
  FreshDirs().clear();
}

// Returns the q-quantile (0..1) of `samples`, which it sorts.
inline double Quantile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t index = static_cast<size_t>(q * static_cast<double>(samples.size()));
  return samples[std::min(index, samples.size() - 1)];
}

// Named figures of one run, printed as the last line:
//   summary: key=value key=value ...
class Summary {
 public:
  void Set(const std::string& key, double value) { values_[key] = value; }
  double Get(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? 0 : it->second;
  }
  // Adds numerator / denominator as `key` when both were measured.
  void Ratio(const std::string& key, const std::string& numerator,
             const std::string& denominator) {
    if (Get(denominator) > 0 && Get(numerator) > 0) {
      Set(key, Get(numerator) / Get(denominator));
    }
  }
  void Print() const {
    std::string line = "summary:";
    for (const auto& [key, value] : values_) {
      absl::StrAppend(&line, " ", key, "=", absl::StrFormat("%.6g", value));
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

 private:
  std::map<std::string, double> values_;
};

}  // namespace leadledger::bench

#endif  // LEADLEDGER_BENCH_BENCH_UTIL_H_
