#include "services/lead_state_cache.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace leadledger::services {
namespace {

std::shared_ptr<const LeadSnapshot> At(int64_t version) {
  auto snapshot = std::make_shared<LeadSnapshot>();
  snapshot->version = version;
  snapshot->log_position = static_cast<uint64_t>(100 + version);
  return snapshot;
}

int64_t VersionFound(LeadStateCache& cache, const std::string& id,
                     int64_t max_version) {
  std::shared_ptr<const LeadSnapshot> found = cache.Find(id, max_version);
  return found == nullptr ? -100 : found->version;
}

TEST(LeadStateCacheTest, FindsTheHighestVersionNotAboveTheOneAskedFor) {
  LeadStateCache cache(1000);
  cache.Store("a", At(3));
  cache.Store("a", At(7));
  EXPECT_EQ(VersionFound(cache, "a", 100), 7);
  EXPECT_EQ(VersionFound(cache, "a", 7), 7);
  EXPECT_EQ(VersionFound(cache, "a", 6), 3);
  EXPECT_EQ(VersionFound(cache, "a", 3), 3);
  EXPECT_EQ(VersionFound(cache, "a", 2), -100);
  EXPECT_EQ(VersionFound(cache, "b", 100), -100);
}

TEST(LeadStateCacheTest, ALeadKeepsItsMostRecentlyUsedSnapshots) {
  LeadStateCache cache(1000);
  cache.Store("a", At(1));
  cache.Store("a", At(2));
  // Using version 1 makes version 2 the least recently used one.
  EXPECT_EQ(VersionFound(cache, "a", 1), 1);
  cache.Store("a", At(5));
  EXPECT_EQ(VersionFound(cache, "a", 4), 1);
  EXPECT_EQ(VersionFound(cache, "a", 5), 5);
  // Storing a version again replaces it and keeps the other.
  cache.Store("a", At(5));
  EXPECT_EQ(VersionFound(cache, "a", 4), 1);
}

TEST(LeadStateCacheTest, AFoldForwardReplacesTheSnapshotItStartedFrom) {
  LeadStateCache cache(1000);
  cache.Store("a", At(2));   // the scheduler's
  cache.Store("a", At(10));  // the commands'
  // The commands move on, each from the latest snapshot: the scheduler's
  // snapshot stays, although the commands used theirs more recently.
  for (int64_t v = 11; v < 20; ++v) {
    ASSERT_EQ(VersionFound(cache, "a", 1000), v - 1);
    cache.Store("a", At(v), v - 1);
  }
  EXPECT_EQ(VersionFound(cache, "a", 5), 2);
  // And the scheduler moves on from its own.
  cache.Store("a", At(4), 2);
  EXPECT_EQ(VersionFound(cache, "a", 5), 4);
  EXPECT_EQ(VersionFound(cache, "a", 1000), 19);
}

TEST(LeadStateCacheTest, AFoldFromAStateNotKeptReplacesTheNewestBelowIt) {
  LeadStateCache cache(1000);
  cache.Store("a", At(2));                        // the scheduler's
  cache.Store("a", At(10));                       // the commands'
  EXPECT_EQ(VersionFound(cache, "a", 1000), 10);  // the scheduler's is last
  // A command decided on version 11, which was still being written and is
  // not kept: its state supersedes the commands' snapshot, and the
  // scheduler keeps its own.
  cache.Store("a", At(12), 11);
  EXPECT_EQ(VersionFound(cache, "a", 5), 2);
  EXPECT_EQ(VersionFound(cache, "a", 1000), 12);
}

TEST(LeadStateCacheTest, DropsTheLeastRecentlyUsedLeadsBeyondItsBound) {
  // 16 shards of one lead each.
  LeadStateCache cache(16);
  for (int i = 0; i < 1000; ++i) cache.Store(std::to_string(i), At(i));
  EXPECT_LE(cache.size(), 16u);
  // The last lead stored is kept; its shard dropped the ones before it.
  EXPECT_EQ(VersionFound(cache, "999", 1000), 999);
}

TEST(LeadStateCacheTest, ARecentlyFoundLeadOutlivesOlderOnes) {
  LeadStateCache cache(LeadStateCache::kSnapshotsPerLead * 16 * 2);
  // Fill one shard: find the ids that share "keep"'s shard by storing many.
  cache.Store("keep", At(1));
  for (int i = 0; i < 10'000; ++i) {
    cache.Store(std::to_string(i), At(i));
    ASSERT_EQ(VersionFound(cache, "keep", 1), 1) << "after " << i;
  }
}

TEST(LeadStateCacheTest, ZeroLeadsKeepsNothing) {
  LeadStateCache cache(0);
  cache.Store("a", At(1));
  EXPECT_EQ(VersionFound(cache, "a", 10), -100);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace leadledger::services
