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

std::string EncodeRunValue(uint64_t first_position, uint64_t count) {
  return absl::StrCat(EncodeUint64(first_position), EncodeUint64(count));
}

std::optional<StreamRun> DecodeRun(absl::string_view key,
                                   absl::string_view value,
                                   absl::string_view* stream) {
  if (key.size() < 9 || key[key.size() - 9] != '\0' || value.size() != 16) {
    return std::nullopt;
  }
  std::optional<uint64_t> version = DecodeUint64(key.substr(key.size() - 8));
  std::optional<uint64_t> position = DecodeUint64(value.substr(0, 8));
  std::optional<uint64_t> count = DecodeUint64(value.substr(8));
  if (!version.has_value() || !position.has_value() || !count.has_value() ||
      *count == 0 || *version > static_cast<uint64_t>(INT64_MAX)) {
    return std::nullopt;
  }
  *stream = key.substr(0, key.size() - 9);
  return StreamRun{.first_version = static_cast<int64_t>(*version),
                   .first_position = *position,
                   .count = *count};
}

}  // namespace leadledger::eventstore
