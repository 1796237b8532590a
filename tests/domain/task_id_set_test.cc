#include "domain/task_id_set.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadledger::domain {
namespace {

using ::testing::ElementsAre;

TEST(TaskIdSetTest, HoldsEachIdOnce) {
  TaskIdSet ids;
  EXPECT_FALSE(ids.contains("a"));
  EXPECT_TRUE(ids.insert("a"));
  EXPECT_FALSE(ids.insert("a"));
  EXPECT_TRUE(ids.insert("b"));
  EXPECT_TRUE(ids.contains("a"));
  EXPECT_EQ(ids.size(), 2u);
  // Past the first shared block too.
  for (int i = 0; i < 500; ++i) ids.insert(absl::StrCat("t", i));
  for (int i = 0; i < 500; ++i) {
    EXPECT_FALSE(ids.insert(absl::StrCat("t", i))) << i;
  }
  EXPECT_FALSE(ids.insert("a"));
  EXPECT_EQ(ids.size(), 502u);
  EXPECT_FALSE(ids.contains("t500"));
  ids.clear();
  EXPECT_EQ(ids.size(), 0u);
  EXPECT_FALSE(ids.contains("t1"));
}

TEST(TaskIdSetTest, CopiesAreIndependent) {
  TaskIdSet original;
  for (int i = 0; i < 1000; ++i) original.insert(absl::StrCat("t", i));
  TaskIdSet copy = original;
  // Enough inserts on each side to fill and share new blocks.
  for (int i = 0; i < 200; ++i) {
    copy.insert(absl::StrCat("copy", i));
    original.insert(absl::StrCat("original", i));
  }
  EXPECT_EQ(copy.size(), 1200u);
  EXPECT_EQ(original.size(), 1200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(copy.contains(absl::StrCat("copy", i)));
    EXPECT_FALSE(copy.contains(absl::StrCat("original", i)));
    EXPECT_TRUE(original.contains(absl::StrCat("original", i)));
    EXPECT_FALSE(original.contains(absl::StrCat("copy", i)));
  }
  EXPECT_TRUE(copy.contains("t999"));
  EXPECT_FALSE(copy == original);
}

TEST(TaskIdSetTest, EqualityIsByIdsWhateverTheOrderOfInserts) {
  TaskIdSet forward;
  TaskIdSet backward;
  for (int i = 0; i < 300; ++i) forward.insert(absl::StrCat("t", i));
  for (int i = 299; i >= 0; --i) backward.insert(absl::StrCat("t", i));
  EXPECT_TRUE(forward == backward);
  TaskIdSet copy = forward;
  EXPECT_TRUE(copy == forward);
  forward.insert("x");
  backward.insert("y");
  EXPECT_FALSE(forward == backward);
  EXPECT_FALSE(copy == forward);
}

TEST(TaskIdSetTest, SortedListsEveryId) {
  TaskIdSet ids;
  for (const char* id : {"c", "a", "b"}) ids.insert(id);
  EXPECT_THAT(ids.Sorted(), ElementsAre("a", "b", "c"));
  for (int i = 0; i < 100; ++i) ids.insert(absl::StrCat("z", i));
  std::vector<std::string> sorted = ids.Sorted();
  EXPECT_EQ(sorted.size(), 103u);
  EXPECT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));
  EXPECT_EQ(sorted.front(), "a");
}

}  // namespace
}  // namespace leadledger::domain
