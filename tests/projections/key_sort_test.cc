#include "projections/key_sort.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"

namespace leadledger::projections {
namespace {

// The order a stable sort by bytewise comparison gives: what
// SortPositionsByKey must equal.
std::vector<uint32_t> ReferenceOrder(const std::vector<std::string>& keys) {
  std::vector<uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return absl::string_view(keys[a]) < absl::string_view(keys[b]);
  });
  return order;
}

std::vector<uint32_t> Sorted(const std::vector<std::string>& keys) {
  std::vector<absl::string_view> views(keys.begin(), keys.end());
  std::vector<uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  SortPositionsByKey(views, absl::MakeSpan(order));
  return order;
}

TEST(KeySortTest, OrdersBytewiseWithPrefixesFirstAndTiesByPosition) {
  const std::vector<std::string> keys = {"b",
                                         "abcdefghij",
                                         "",
                                         "abcdefg",
                                         std::string("abcdefg\0", 8),
                                         "abcdefgh",
                                         "b",
                                         std::string("abcdefg\0\0", 9),
                                         "\xff",
                                         "abcdefghij",
                                         "abcdefg"};
  // "abcdefg" ends exactly at a digit's edge; "\0" bytes sort after the end
  // of a key and before every other byte; 0xff sorts last (bytes are
  // unsigned).
  EXPECT_EQ(Sorted(keys), ReferenceOrder(keys));
  EXPECT_EQ(Sorted(keys),
            (std::vector<uint32_t>{2, 3, 10, 4, 7, 5, 1, 9, 0, 6, 8}));
}

TEST(KeySortTest, SortsASubsetOfPositions) {
  const std::vector<std::string> keys = {"d", "c", "b", "a"};
  std::vector<absl::string_view> views(keys.begin(), keys.end());
  std::vector<uint32_t> subset = {0, 2, 1};
  SortPositionsByKey(views, absl::MakeSpan(subset));
  EXPECT_EQ(subset, (std::vector<uint32_t>{2, 1, 0}));
}

TEST(KeySortTest, AgreesWithAStableSortOnIndexLikeKeys) {
  std::mt19937_64 random(7);
  for (int round = 0; round < 20; ++round) {
    // Keys as the read models write them: long shared prefixes, values
    // that are prefixes of others, NUL separators, big-endian numbers, and
    // the same key written more than once.
    const char* fields[] = {"i/LA/all/",   "i/LA/text/", "i/OA/text/",
                            "i/LA/owner/", "r/lead-",    "u/LA/"};
    std::vector<std::string> keys;
    const int count = 1 + static_cast<int>(random() % 3000);
    for (int i = 0; i < count; ++i) {
      std::string key = fields[random() % 6];
      const int letters = static_cast<int>(random() % 12);
      for (int j = 0; j < letters; ++j)
        key += static_cast<char>('a' + random() % 3);
      if (random() % 2 == 0) {
        key += '\0';
        const uint64_t number = random() % 50;
        for (int shift = 56; shift >= 0; shift -= 8) {
          key += static_cast<char>((number >> shift) & 0xff);
        }
      }
      if (random() % 10 == 0) key += static_cast<char>(random() % 256);
      keys.push_back(std::move(key));
    }
    ASSERT_EQ(Sorted(keys), ReferenceOrder(keys)) << "round " << round;
  }
}

TEST(KeySortTest, SortsNothing) { EXPECT_TRUE(Sorted({}).empty()); }

}  // namespace
}  // namespace leadledger::projections
