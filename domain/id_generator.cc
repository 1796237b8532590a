#include "domain/id_generator.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace leadledger {

std::string RandomIdGenerator::NewId() {
  uint64_t high;
  uint64_t low;
  {
    absl::MutexLock lock(&mu_);
    high = absl::Uniform<uint64_t>(bitgen_);
    low = absl::Uniform<uint64_t>(bitgen_);
  }
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  // 26 characters of 5 bits hold 130 bits; the top two are always zero.
  std::string id(26, 'a');
  for (int i = 25; i >= 0; --i) {
    id[i] = kAlphabet[low & 31];
    low = (low >> 5) | (high << 59);
    high >>= 5;
  }
  return id;
}

std::string SequentialIdGenerator::NewId() {
  absl::MutexLock lock(&mu_);
  return absl::StrCat(prefix_, "-", next_++);
}

}  // namespace leadledger
