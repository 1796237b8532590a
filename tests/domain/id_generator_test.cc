#include "domain/id_generator.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace leadledger {
namespace {

TEST(RandomIdGeneratorTest, IdsAreDistinctAndUseTheIdAlphabet) {
  RandomIdGenerator ids;
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = ids.NewId();
    ASSERT_EQ(id.size(), 26u);
    for (char c : id) {
      ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << id;
    }
    ASSERT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
}

TEST(DeriveIdTest, SameSeedSameIdOtherSeedOtherId) {
  EXPECT_EQ(DeriveId("request-1"), DeriveId("request-1"));
  EXPECT_NE(DeriveId("request-1"), DeriveId("request-2"));
  EXPECT_EQ(DeriveId("").size(), 26u);
  // Pinned: ids derived in earlier runs must keep naming the same records.
  EXPECT_EQ(DeriveId("request-1"), "gydbuvdpuuo6keupqptseibxzt");
}

TEST(SequentialIdGeneratorTest, CountsFromOne) {
  SequentialIdGenerator ids("lead");
  EXPECT_EQ(ids.NewId(), "lead-1");
  EXPECT_EQ(ids.NewId(), "lead-2");
}

}  // namespace
}  // namespace leadledger
