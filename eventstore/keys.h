// Key encodings of the RocksDB event store. Integers are big-endian so that
// RocksDB's byte order is numeric order.
//
//   events  : position                    -> EventEnvelope
//   streams : stream '\0' version         -> position
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

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_KEYS_H_
