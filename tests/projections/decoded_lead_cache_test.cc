// DecodedLeadCache: answers with a lead decoded from the very bytes a reader
// read, whatever order readers come in, and stays within its capacity.
#include "projections/decoded_lead_cache.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/event_codec.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;
using ::testing::HasSubstr;

StoredLead Lead(const std::string& id, const std::string& name,
                int64_t version) {
  StoredLead stored{.version = version,
                    .created_position = 1,
                    .last_position = static_cast<uint64_t>(version + 1)};
  stored.lead.exists = true;
  stored.lead.id = id;
  stored.lead.profile.display_name = name;
  stored.lead.create_time = absl::FromUnixSeconds(1'800'000'000);
  stored.lead.update_time = absl::FromUnixSeconds(1'800'000'000 + version);
  return stored;
}

TEST(DecodedLeadCacheTest, EqualBytesShareOneDecodedLead) {
  DecodedLeadCache cache(1 << 20);
  const StoredLead stored = Lead("l1", "Solar roof", 0);
  absl::StatusOr<std::shared_ptr<const StoredLead>> first =
      cache.Decode("l1", EncodeLeadRow(stored));
  ASSERT_THAT(first.status(), IsOk());
  absl::StatusOr<std::shared_ptr<const StoredLead>> second =
      cache.Decode("l1", EncodeLeadRow(stored));
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_EQ(**first, stored);
  EXPECT_EQ(first->get(), second->get());
  const DecodedLeadCache::Stats stats = cache.GetStats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST(DecodedLeadCacheTest, EachReaderGetsTheLeadOfTheBytesItRead) {
  DecodedLeadCache cache(1 << 20);
  const StoredLead old_row = Lead("l1", "Solar roof", 0);
  const StoredLead new_row = Lead("l1", "Solar roof and battery", 1);
  ASSERT_THAT(cache.Decode("l1", EncodeLeadRow(old_row)).status(), IsOk());
  // A newer row, then a reader whose snapshot still holds the old one, then
  // the newer one again.
  absl::StatusOr<std::shared_ptr<const StoredLead>> changed =
      cache.Decode("l1", EncodeLeadRow(new_row));
  ASSERT_THAT(changed.status(), IsOk());
  EXPECT_EQ(**changed, new_row);
  absl::StatusOr<std::shared_ptr<const StoredLead>> older =
      cache.Decode("l1", EncodeLeadRow(old_row));
  ASSERT_THAT(older.status(), IsOk());
  EXPECT_EQ(**older, old_row);
  absl::StatusOr<std::shared_ptr<const StoredLead>> newer =
      cache.Decode("l1", EncodeLeadRow(new_row));
  ASSERT_THAT(newer.status(), IsOk());
  EXPECT_EQ(**newer, new_row);
  // Another lead with the same bytes is not this one.
  absl::StatusOr<std::shared_ptr<const StoredLead>> other =
      cache.Decode("l2", EncodeLeadRow(new_row));
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_NE(other->get(), newer->get());
  EXPECT_EQ(cache.GetStats().hits, 0u);
}

TEST(DecodedLeadCacheTest, UnreadableBytesAreRefusedAndNeverKept) {
  DecodedLeadCache cache(1 << 20);
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::shared_ptr<const StoredLead>> decoded =
        cache.Decode("l1", "\xff\xff not a row");
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(decoded.status().message(), HasSubstr("lead row"));
  }
  EXPECT_EQ(cache.GetStats().entries, 0u);
  EXPECT_EQ(cache.GetStats().hits, 0u);
}

TEST(DecodedLeadCacheTest, StaysWithinItsCapacityAndKeepsWhatIsReadAgain) {
  constexpr size_t kCapacity = 256 << 10;
  DecodedLeadCache cache(kCapacity);
  const std::string hot_row = EncodeLeadRow(Lead("hot", "Hot lead", 0));
  ASSERT_THAT(cache.Decode("hot", hot_row).status(), IsOk());
  for (int i = 0; i < 5000; ++i) {
    const std::string id = absl::StrCat("cold", i);
    ASSERT_THAT(
        cache.Decode(id, EncodeLeadRow(Lead(id, "Cold lead", 0))).status(),
        IsOk());
    // Read as often as a page of the busiest leads would.
    if (i % 4 == 0) {
      ASSERT_THAT(cache.Decode("hot", hot_row).status(), IsOk());
    }
    ASSERT_LE(cache.GetStats().bytes, kCapacity) << "after " << i;
  }
  const DecodedLeadCache::Stats stats = cache.GetStats();
  EXPECT_LT(stats.entries, 5000u);
  EXPECT_GT(stats.entries, 0u);
  // Every read of the hot lead but the first found it.
  EXPECT_EQ(stats.hits, 1250u);
}

TEST(DecodedLeadCacheTest, ConcurrentReadersOfChangingRowsGetTheirOwnBytes) {
  DecodedLeadCache cache(64 << 10);
  std::vector<std::string> rows;
  std::vector<StoredLead> leads;
  for (int version = 0; version < 8; ++version) {
    leads.push_back(Lead(absl::StrCat("l", version % 3),
                         absl::StrCat("name ", version), version));
    rows.push_back(EncodeLeadRow(leads.back()));
  }
  std::vector<std::thread> readers;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const size_t pick = static_cast<size_t>(i * (t + 3) + t) % rows.size();
        absl::StatusOr<std::shared_ptr<const StoredLead>> decoded =
            cache.Decode(leads[pick].lead.id, rows[pick]);
        if (!decoded.ok() || **decoded != leads[pick]) ++wrong[t];
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0) << "reader " << t;
  EXPECT_GT(cache.GetStats().hits, 0u);
}

}  // namespace
}  // namespace leadledger::projections
