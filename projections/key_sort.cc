#include "projections/key_sort.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

namespace leadledger::projections {
namespace {

// Bytes of a key each digit holds; the digit's low byte says how many of
// them the key has (a key that ends inside the digit sorts before any key it
// is a prefix of), or kMore when bytes follow beyond the digit.
constexpr size_t kDigitBytes = 7;
constexpr uint64_t kMore = kDigitBytes + 1;

// The digit of `key` that starts at byte `depth`: its bytes big-endian in
// the high seven bytes (zero where the key has none), and their count in the
// low byte. Comparing digits as integers compares the keys' bytes from
// `depth` on, as far as the digit reaches.
uint64_t DigitAt(absl::string_view key, size_t depth) {
  const size_t remaining = key.size() > depth ? key.size() - depth : 0;
  if (remaining > kDigitBytes) {
    uint64_t bytes;
    std::memcpy(&bytes, key.data() + depth, sizeof(bytes));
    if constexpr (std::endian::native == std::endian::little) {
      bytes = __builtin_bswap64(bytes);
    }
    return (bytes & ~uint64_t{0xff}) | kMore;
  }
  uint64_t digit = 0;
  for (size_t i = 0; i < remaining; ++i) {
    digit |= uint64_t{static_cast<uint8_t>(key[depth + i])} << (56 - 8 * i);
  }
  return digit | remaining;
}

struct Entry {
  uint64_t digit;
  uint32_t position;
};

}  // namespace

void SortPositionsByKey(absl::Span<const absl::string_view> keys,
                        absl::Span<uint32_t> positions) {
  std::vector<Entry> entries(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    entries[i] = Entry{0, positions[i]};
  }
  // Ranges of entries whose keys tie on every byte before `depth`. A stack,
  // not recursion: a long key shared by many writes nests one level per
  // digit.
  struct Range {
    size_t begin;
    size_t end;
    size_t depth;
  };
  std::vector<Range> ranges = {{0, entries.size(), 0}};
  while (!ranges.empty()) {
    const Range range = ranges.back();
    ranges.pop_back();
    auto begin = entries.begin() + static_cast<ptrdiff_t>(range.begin);
    auto end = entries.begin() + static_cast<ptrdiff_t>(range.end);
    for (auto it = begin; it != end; ++it) {
      it->digit = DigitAt(keys[it->position], range.depth);
    }
    std::sort(begin, end, [](const Entry& a, const Entry& b) {
      return a.digit < b.digit ||
             (a.digit == b.digit && a.position < b.position);
    });
    for (size_t first = range.begin; first < range.end;) {
      size_t last = first + 1;
      while (last < range.end && entries[last].digit == entries[first].digit) {
        ++last;
      }
      // Keys that tie here and go on beyond this digit are told apart by
      // what follows; keys that end here are equal, in position order.
      if (last - first > 1 && (entries[first].digit & 0xff) == kMore) {
        ranges.push_back({first, last, range.depth + kDigitBytes});
      }
      first = last;
    }
  }
  for (size_t i = 0; i < positions.size(); ++i) {
    positions[i] = entries[i].position;
  }
}

}  // namespace leadledger::projections
