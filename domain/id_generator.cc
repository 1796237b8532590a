#include "domain/id_generator.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace leadledger {

namespace {

// 128 bits as 26 lower-case base32 characters (the top two of the 130 bits
// 26 characters hold are always zero).
std::string Base32(uint64_t high, uint64_t low) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string id(26, 'a');
  for (int i = 25; i >= 0; --i) {
    id[i] = kAlphabet[low & 31];
    low = (low >> 5) | (high << 59);
    high >>= 5;
  }
  return id;
}

// 64-bit FNV-1a from `basis`: stable everywhere, unlike absl::Hash.
uint64_t Fnv1a(absl::string_view bytes, uint64_t basis) {
  uint64_t hash = basis;
  for (char c : bytes) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  }
  return hash;
}

}  // namespace

std::string DeriveId(absl::string_view seed) {
  return Base32(Fnv1a(seed, 0xcbf29ce484222325ull),
                Fnv1a(seed, 0x84222325cbf29ce4ull));
}

std::string RandomIdGenerator::NewId() {
  absl::MutexLock lock(&mu_);
  return Base32(absl::Uniform<uint64_t>(bitgen_),
                absl::Uniform<uint64_t>(bitgen_));
}

std::string SequentialIdGenerator::NewId() {
  absl::MutexLock lock(&mu_);
  return absl::StrCat(prefix_, "-", next_++);
}

}  // namespace leadledger
