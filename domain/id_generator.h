// The source of new record and event ids. Shells take an IdGenerator so that
// tests see predictable ids; the domain receives ids inside commands.
#ifndef LEADLEDGER_DOMAIN_ID_GENERATOR_H_
#define LEADLEDGER_DOMAIN_ID_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace leadledger {

// Thread-safe.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // Returns an id never returned before, made of [a-z0-9-] only.
  virtual std::string NewId() = 0;
};

// An id derived from `seed` alone, in the alphabet of RandomIdGenerator: the
// same seed gives the same id in every process and build. For records whose
// identity follows from their cause (a request id, a causing event), so that
// a retry or a replay names the same record.
std::string DeriveId(absl::string_view seed);

// 128 random bits as 26 lower-case base32 characters: collision-free in
// practice without coordination, which a future multi-node log needs.
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string NewId() override;

 private:
  absl::Mutex mu_;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
};

// "<prefix>-1", "<prefix>-2", ...: for tests.
class SequentialIdGenerator final : public IdGenerator {
 public:
  explicit SequentialIdGenerator(std::string prefix)
      : prefix_(std::move(prefix)) {}
  std::string NewId() override;

 private:
  const std::string prefix_;
  absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace leadledger

#endif  // LEADLEDGER_DOMAIN_ID_GENERATOR_H_
