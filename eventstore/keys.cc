#include "eventstore/keys.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace leadledger::eventstore {

std::string EncodeUint64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i) {
    bytes[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return bytes;
}

std::optional<uint64_t> DecodeUint64(absl::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string StreamKeyPrefix(absl::string_view stream) {
  return absl::StrCat(stream, absl::string_view("\0", 1));
}

std::string StreamVersionKey(absl::string_view stream, int64_t version) {
  return absl::StrCat(StreamKeyPrefix(stream),
                      EncodeUint64(static_cast<uint64_t>(version)));
}

}  // namespace leadledger::eventstore
