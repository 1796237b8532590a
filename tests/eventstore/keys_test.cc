#include "eventstore/keys.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace leadledger::eventstore {
namespace {

TEST(KeysTest, Uint64RoundTripsAndSortsNumerically) {
  for (uint64_t value :
       {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, UINT64_MAX}) {
    EXPECT_EQ(DecodeUint64(EncodeUint64(value)), value);
  }
  EXPECT_LT(EncodeUint64(255), EncodeUint64(256));
  EXPECT_LT(EncodeUint64(1), EncodeUint64(1ull << 40));
}

TEST(KeysTest, DecodeRefusesWrongLengths) {
  EXPECT_EQ(DecodeUint64(""), std::nullopt);
  EXPECT_EQ(DecodeUint64("1234567"), std::nullopt);
  EXPECT_EQ(DecodeUint64("123456789"), std::nullopt);
}

TEST(KeysTest, StreamKeysOfOneStreamShareAPrefixNoOtherStreamHas) {
  EXPECT_TRUE(
      StreamVersionKey("lead-1", 7).starts_with(StreamKeyPrefix("lead-1")));
  EXPECT_FALSE(
      StreamVersionKey("lead-10", 0).starts_with(StreamKeyPrefix("lead-1")));
  EXPECT_LT(StreamVersionKey("lead-1", 9), StreamVersionKey("lead-1", 10));
}

}  // namespace
}  // namespace leadledger::eventstore
