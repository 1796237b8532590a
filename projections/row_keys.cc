#include "projections/row_keys.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace leadledger::projections {
namespace {

// Format of page tokens; a new format gets a new tag and old tokens are
// refused with a clear error rather than misread.
constexpr absl::string_view kTokenTag = "p1";
constexpr size_t kMaxTokenBytes = 4096;

}  // namespace

void AppendUint64(std::string& key, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

void AppendUint32(std::string& key, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::optional<uint64_t> ReadUint64(absl::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

uint64_t QueryHash(absl::string_view description) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : description) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string EncodePageToken(uint64_t query_hash, absl::string_view last_key) {
  std::string raw(kTokenTag);
  AppendUint64(raw, query_hash);
  absl::StrAppend(&raw, last_key);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            uint64_t query_hash) {
  std::string raw;
  if (token.size() > kMaxTokenBytes ||
      !absl::WebSafeBase64Unescape(token, &raw) ||
      raw.size() < kTokenTag.size() + 8 ||
      absl::string_view(raw).substr(0, kTokenTag.size()) != kTokenTag) {
    return absl::InvalidArgumentError(
        "page_token: not a page token of this service");
  }
  if (ReadUint64(absl::string_view(raw).substr(kTokenTag.size())) !=
      query_hash) {
    return absl::InvalidArgumentError(
        "page_token: issued for a query with other filters; start again "
        "without a token");
  }
  return raw.substr(kTokenTag.size() + 8);
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) != 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace leadledger::projections
