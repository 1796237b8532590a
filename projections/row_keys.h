// Building blocks of read-model keys and page tokens. Numbers are written
// big-endian so that byte order is numeric order; signed values are biased
// into unsigned ones first.
#ifndef LEADLEDGER_PROJECTIONS_ROW_KEYS_H_
#define LEADLEDGER_PROJECTIONS_ROW_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadledger::projections {

void AppendUint64(std::string& key, uint64_t value);
void AppendUint32(std::string& key, uint32_t value);
// The number in the 8 bytes at the start of `bytes`; nullopt when shorter.
std::optional<uint64_t> ReadUint64(absl::string_view bytes);

// A signed value mapped to unsigned so that order is kept.
inline uint64_t Biased(int64_t value) {
  return static_cast<uint64_t>(value) ^ (uint64_t{1} << 63);
}
inline int64_t Unbiased(uint64_t value) {
  return static_cast<int64_t>(value ^ (uint64_t{1} << 63));
}

// A stable 64-bit hash (FNV-1a) of a query's description: page tokens carry
// it so that a token is only accepted by the query that issued it, even by
// another server process.
uint64_t QueryHash(absl::string_view description);

// An opaque page token resuming after `last_key` of the query `query_hash`.
std::string EncodePageToken(uint64_t query_hash, absl::string_view last_key);

// The last key carried by `token`.
// Errors: INVALID_ARGUMENT naming page_token when the token is damaged or
// was issued for another query.
[[nodiscard]] absl::StatusOr<std::string> DecodePageToken(
    absl::string_view token, uint64_t query_hash);

// The smallest key greater than every key starting with `prefix` (empty
// when there is none: the prefix is all 0xff).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_ROW_KEYS_H_
