#include "domain/duplicates.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadledger::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

// Ids "<prefix>00" .. "<prefix>NN", n of them.
std::vector<std::string> Ids(absl::string_view prefix, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(absl::StrCat(prefix, i < 10 ? "0" : "", i));
  }
  return ids;
}

CriterionMatches Email(std::vector<std::string> ids) {
  return {.criterion = DuplicateCriterion::kEmail,
          .value = "ana@example.com",
          .lead_ids = std::move(ids)};
}

CriterionMatches Phone(std::vector<std::string> ids) {
  return {.criterion = DuplicateCriterion::kPhone,
          .value = "+34600123456",
          .lead_ids = std::move(ids)};
}

CriterionMatches Customer(std::vector<std::string> ids) {
  return {.criterion = DuplicateCriterion::kCustomer,
          .value = "c1",
          .lead_ids = std::move(ids)};
}

TEST(CriteriaOfTest, EmptyKeysHaveNoCriteria) {
  EXPECT_THAT(CriteriaOf(DuplicateKeys{}), IsEmpty());
  EXPECT_THAT(CriteriaOf(DuplicateKeys{.phones_e164 = {"", ""}}), IsEmpty());
}

TEST(CriteriaOfTest, ListsEachKeyInOrder) {
  DuplicateKeys keys{.email_normalized = "ana@example.com",
                     .phones_e164 = {"+34912345678", "+34600123456"},
                     .customer_id = "c1"};
  EXPECT_THAT(CriteriaOf(keys),
              ElementsAre(Pair(DuplicateCriterion::kEmail, "ana@example.com"),
                          Pair(DuplicateCriterion::kPhone, "+34912345678"),
                          Pair(DuplicateCriterion::kPhone, "+34600123456"),
                          Pair(DuplicateCriterion::kCustomer, "c1")));
}

TEST(CriteriaOfTest, PhoneEqualToMobileCountsOnce) {
  DuplicateKeys keys{.phones_e164 = {"+34600123456", "+34600123456"}};
  EXPECT_THAT(CriteriaOf(keys),
              ElementsAre(Pair(DuplicateCriterion::kPhone, "+34600123456")));
}

TEST(CriteriaOfTest, SkipsAnEmptyPhone) {
  DuplicateKeys keys{.phones_e164 = {"", "+34600123456"}};
  EXPECT_THAT(CriteriaOf(keys),
              ElementsAre(Pair(DuplicateCriterion::kPhone, "+34600123456")));
}

TEST(SelectDuplicatesTest, NoMatchesSuggestNothing) {
  EXPECT_THAT(SelectDuplicates("self", {}), IsEmpty());
  EXPECT_THAT(SelectDuplicates("self", {Email({})}), IsEmpty());
  EXPECT_THAT(SelectDuplicates("self", {Email({"self"})}), IsEmpty());
}

TEST(SelectDuplicatesTest, SuggestsAnEmailMatch) {
  EXPECT_THAT(SelectDuplicates("self", {Email({"self", "l2"})}),
              ElementsAre("l2"));
}

TEST(SelectDuplicatesTest, SuggestsAMatchOnTheMobile) {
  DuplicateKeys keys{.phones_e164 = {"", "+34600123456"}};
  auto criteria = CriteriaOf(keys);
  ASSERT_THAT(criteria,
              ElementsAre(Pair(DuplicateCriterion::kPhone, "+34600123456")));
  EXPECT_THAT(SelectDuplicates("self", {Phone({"l7", "self"})}),
              ElementsAre("l7"));
}

TEST(SelectDuplicatesTest, SuggestsACustomerMatch) {
  EXPECT_THAT(SelectDuplicates("self", {Customer({"o1"})}), ElementsAre("o1"));
}

TEST(SelectDuplicatesTest, ReturnsTheUnionWithoutRepeats) {
  EXPECT_THAT(SelectDuplicates(
                  "self", {Email({"l2", "l3", "self"}),
                           Phone({"l3", "l4", "l4"}), Customer({"l2", "l5"})}),
              ElementsAre("l2", "l3", "l4", "l5"));
}

TEST(SelectDuplicatesTest, ExcludesSelf) {
  EXPECT_THAT(SelectDuplicates("l2", {Email({"l1", "l2"}), Phone({"l2"})}),
              ElementsAre("l1"));
}

TEST(SelectDuplicatesTest, KeepsACriterionWithExactlyTheMaximum) {
  std::vector<std::string> ids = Ids("p", kMaxMatchesPerCriterion);
  ids.push_back("self");
  EXPECT_EQ(SelectDuplicates("self", {Phone(ids)}),
            Ids("p", kMaxMatchesPerCriterion));
}

TEST(SelectDuplicatesTest, DropsACriterionWithMoreThanTheMaximum) {
  EXPECT_THAT(
      SelectDuplicates("self", {Phone(Ids("p", kMaxMatchesPerCriterion + 1)),
                                Email({"l1"})}),
      ElementsAre("l1"));
}

TEST(SelectDuplicatesTest, CountsDistinctRecords) {
  // 20 records, one of them listed twice: still within the limit.
  std::vector<std::string> ids = Ids("p", kMaxMatchesPerCriterion);
  ids.push_back("p00");
  EXPECT_EQ(SelectDuplicates("self", {Phone(ids)}),
            Ids("p", kMaxMatchesPerCriterion));
}

TEST(SelectDuplicatesTest, OrderIsSortedWhateverTheInputOrder) {
  std::vector<std::string> expected = {"a", "b", "c", "d"};
  EXPECT_EQ(SelectDuplicates("self", {Email({"d", "b"}), Phone({"c", "a"})}),
            expected);
  EXPECT_EQ(SelectDuplicates("self", {Phone({"a", "c"}), Email({"b", "d"})}),
            expected);
}

}  // namespace
}  // namespace leadledger::domain
