// Key encodings of the RocksDB event store. Integers are big-endian so that
// RocksDB's byte order is numeric order.
//
//   events  : position                    -> EventEnvelope
//   streams : stream '\0' first version   -> first position, count
//             (one entry per append and stream: the append's events of a
//             stream have consecutive versions and consecutive positions)
//   heads   : stream                      -> version of the stream's last event
//   meta    : name                        -> value (schema version, ...)
#ifndef LEADLEDGER_EVENTSTORE_KEYS_H_
#define LEADLEDGER_EVENTSTORE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace leadledger::eventstore {

std::string EncodeUint64(uint64_t value);
// Returns nullopt unless `bytes` is exactly 8 bytes.
std::optional<uint64_t> DecodeUint64(absl::string_view bytes);

inline std::string PositionKey(uint64_t position) {
  return EncodeUint64(position);
}

// Stream names never contain '\0', so "stream\0" is a prefix of that
// stream's keys only.
std::string StreamKeyPrefix(absl::string_view stream);
std::string StreamVersionKey(absl::string_view stream, int64_t version);

// A run of a stream's events: versions [first_version, first_version + count)
// at positions [first_position, first_position + count).
struct StreamRun {
  int64_t first_version = 0;
  uint64_t first_position = 0;
  uint64_t count = 0;

  int64_t last_version() const {
    return first_version + static_cast<int64_t>(count) - 1;
  }
  uint64_t PositionOf(int64_t version) const {
    return first_position + static_cast<uint64_t>(version - first_version);
  }
};

// The value of a streams-family entry: first position, then count.
std::string EncodeRunValue(uint64_t first_position, uint64_t count);
// Parses a streams-family entry; nullopt when malformed or empty.
std::optional<StreamRun> DecodeRun(absl::string_view key,
                                   absl::string_view value,
                                   absl::string_view* stream);

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_KEYS_H_
