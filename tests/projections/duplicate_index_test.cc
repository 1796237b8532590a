// The "duplicates" read model folded by a real ProjectionRunner over
// RocksDB: what each criterion finds, which records are indexed, the bound on
// generic criteria, the customer email index, and equality of the live,
// rebuilt and from-scratch folds.
#include "projections/duplicate_index.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain/duplicates.h"
#include "domain/lead_decider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/event_codec.h"
#include "tests/projections/lead_script.h"
#include "tests/projections/read_model_fixture.h"
#include "tests/testing/lead_history.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kEmail[] = "ana@acme.com";
constexpr char kMobile[] = "+34600123456";

domain::LeadProfile Contact(const std::string& email,
                            const std::string& phone = "",
                            const std::string& mobile = "") {
  return domain::LeadProfile{
      .display_name = "Lead", .email = email, .phone = phone, .mobile = mobile};
}

class DuplicateIndexTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    history_ = std::make_unique<LeadScript>(store_.get());
  }

  std::vector<domain::CriterionMatches> Matches(const std::string& id) {
    Fold();
    std::unique_ptr<ProjectionReader> reader = db_->NewReader();
    absl::StatusOr<std::vector<domain::CriterionMatches>> matches =
        FindDuplicates(*reader, *db_->Live(kDuplicateIndexProjection),
                       history_->lead(id));
    EXPECT_THAT(matches.status(), IsOk());
    return matches.ok() ? *matches : std::vector<domain::CriterionMatches>{};
  }

  std::vector<std::string> Suggested(const std::string& id) {
    return domain::SelectDuplicates(id, Matches(id));
  }

  std::optional<std::string> CustomerOf(const std::string& email) {
    Fold();
    std::unique_ptr<ProjectionReader> reader = db_->NewReader();
    absl::StatusOr<std::optional<std::string>> customer = CustomerWithEmail(
        *reader, *db_->Live(kDuplicateIndexProjection), email);
    EXPECT_THAT(customer.status(), IsOk());
    return customer.ok() ? *customer : std::nullopt;
  }

  void Convert(const std::string& id, domain::CustomerAction action,
               const std::string& customer_id = "") {
    ASSERT_THAT(
        history_->Convert(id, domain::ConvertLead{.customer_action = action,
                                                  .customer_id = customer_id}),
        IsOk());
  }

  std::unique_ptr<LeadScript> history_;
};

TEST_F(DuplicateIndexTest, FindsActiveAndLostRecordsSharingAKey) {
  domain::LeadProfile a = Contact(kEmail, "", kMobile);
  a.company_name = "Acme";
  ASSERT_THAT(history_->Create("a", a), IsOk());
  ASSERT_THAT(history_->Create("b", Contact(kEmail)), IsOk());
  ASSERT_THAT(history_->Create("c", Contact("", kMobile)), IsOk());
  ASSERT_THAT(history_->Create("d", Contact("other@acme.com")), IsOk());
  ASSERT_THAT(history_->Create("lost", Contact(kEmail)), IsOk());
  ASSERT_THAT(history_->Run(
                  "lost", domain::MarkLeadLost{.settings = history_->settings(),
                                               .now = history_->Now()}),
              IsOk());
  ASSERT_THAT(history_->Create("won", Contact(kEmail)), IsOk());
  Convert("won", domain::CustomerAction::kNone);
  ASSERT_THAT(
      history_->Run("won", domain::MarkLeadWon{.settings = history_->settings(),
                                               .now = history_->Now()}),
      IsOk());
  ASSERT_THAT(history_->Create("head", Contact("head@acme.com")), IsOk());
  ASSERT_THAT(history_->Create("gone", Contact(kEmail)), IsOk());
  ASSERT_THAT(history_->Merge({"head", "gone"}), IsOk());
  Convert("a", domain::CustomerAction::kCreateNew);
  const std::string customer = history_->lead("a").customer_id;
  ASSERT_FALSE(customer.empty());
  ASSERT_THAT(history_->Create("e", Contact("")), IsOk());
  Convert("e", domain::CustomerAction::kLinkExisting, customer);

  std::vector<domain::CriterionMatches> matches = Matches("a");
  ASSERT_THAT(matches, SizeIs(3));
  EXPECT_EQ(matches[0].criterion, domain::DuplicateCriterion::kEmail);
  EXPECT_THAT(matches[0].lead_ids, ElementsAre("a", "b", "lost"));
  EXPECT_EQ(matches[1].criterion, domain::DuplicateCriterion::kPhone);
  EXPECT_EQ(matches[1].value, kMobile);
  EXPECT_THAT(matches[1].lead_ids, ElementsAre("a", "c"));
  EXPECT_EQ(matches[2].criterion, domain::DuplicateCriterion::kCustomer);
  EXPECT_THAT(matches[2].lead_ids, ElementsAre("a", "e"));
  EXPECT_THAT(Suggested("a"), ElementsAre("b", "c", "e", "lost"));
  EXPECT_THAT(Suggested("d"), IsEmpty());

  // A changed email leaves its old entry.
  ASSERT_THAT(history_->Run(
                  "b", domain::UpdateLead{.fields = {domain::LeadField::kEmail},
                                          .profile = Contact("new@acme.com"),
                                          .settings = history_->settings(),
                                          .now = history_->Now()}),
              IsOk());
  EXPECT_THAT(Suggested("a"), ElementsAre("c", "e", "lost"));
  // A restored lead stays indexed; a merged-away one leaves.
  ASSERT_THAT(
      history_->Run("lost", domain::RestoreLead{.now = history_->Now()}),
      IsOk());
  EXPECT_THAT(Suggested("a"), ElementsAre("c", "e", "lost"));
  ASSERT_THAT(history_->Merge({"c", "lost"}), IsOk());  // lost goes into c
  EXPECT_THAT(Suggested("a"), ElementsAre("c", "e"));
}

TEST_F(DuplicateIndexTest, ACriterionSharedByMoreThanTwentyOthersIsDropped) {
  LeadScript batch(store_.get(), /*auto_commit=*/false);
  // 21 leads share an email (20 others each); 22 share a phone (21 others).
  for (int i = 0; i < 22; ++i) {
    ASSERT_THAT(
        batch.Create(absl::StrCat("m", i),
                     Contact(i < 21 ? "many@acme.com" : "", "+34912345678")),
        IsOk());
  }
  ASSERT_THAT(batch.Commit(), IsOk());
  Fold();
  std::unique_ptr<ProjectionReader> reader = db_->NewReader();
  auto matches = FindDuplicates(*reader, *db_->Live(kDuplicateIndexProjection),
                                batch.lead("m0"));
  ASSERT_THAT(matches.status(), IsOk());
  ASSERT_THAT(*matches, SizeIs(2));
  EXPECT_THAT((*matches)[0].lead_ids, SizeIs(21));
  // Reading stops one past the limit: enough to know it is too generic.
  EXPECT_THAT((*matches)[1].lead_ids,
              SizeIs(domain::kMaxMatchesPerCriterion + 2));
  std::vector<std::string> suggested = domain::SelectDuplicates("m0", *matches);
  EXPECT_THAT(suggested, SizeIs(20));
  EXPECT_EQ(std::count(suggested.begin(), suggested.end(), "m21"), 0);
}

TEST_F(DuplicateIndexTest, CustomersAreFoundByEmailOldestFirst) {
  domain::LeadProfile first = Contact(kEmail);
  first.contact_name = "Ana";
  ASSERT_THAT(history_->Create("x", first), IsOk());
  ASSERT_THAT(history_->Create("y", first), IsOk());
  Convert("x", domain::CustomerAction::kCreateNew);
  Convert("y", domain::CustomerAction::kCreateNew);
  const std::string oldest = history_->lead("x").customer_id;
  ASSERT_NE(oldest, history_->lead("y").customer_id);
  EXPECT_EQ(CustomerOf(kEmail), oldest);
  EXPECT_EQ(CustomerOf("ana@acme"), std::nullopt);
  EXPECT_EQ(CustomerOf(""), std::nullopt);
}

// The rows a fold of the whole log from nothing gives, from lead states
// folded with Evolve: every key but the memos, and the ids that have a memo.
struct DuplicateRows {
  std::map<std::string, std::string> entries;
  std::set<std::string> memo_ids;
};

std::string Entry(absl::string_view prefix, absl::string_view value,
                  absl::string_view id) {
  std::string key = absl::StrCat(prefix, value);
  key.push_back('\0');
  return absl::StrCat(key, id);
}

DuplicateRows DuplicatesFromScratch(
    const std::vector<eventstore::RecordedEvent>& events) {
  DuplicateRows rows;
  std::map<std::string, domain::Lead> leads;
  for (const eventstore::RecordedEvent& event : events) {
    if (event.stream.rfind("customer-", 0) == 0) {
      auto decoded = DecodeCustomerEvent(event);
      EXPECT_THAT(decoded.status(), IsOk());
      if (!decoded.ok()) continue;
      const auto& created = std::get<domain::CustomerCreated>(*decoded);
      if (created.profile.email_normalized.empty()) continue;
      std::string key = Entry("ce/", created.profile.email_normalized, "");
      for (int shift = 56; shift >= 0; shift -= 8) {
        key.push_back(static_cast<char>((event.position >> shift) & 0xff));
      }
      rows.entries[key] = created.customer_id;
      continue;
    }
    auto decoded = DecodeLeadEvent(event);
    EXPECT_THAT(decoded.status(), IsOk());
    if (!decoded.ok()) continue;
    domain::Lead& lead = leads[event.stream.substr(5)];
    lead = domain::Evolve(std::move(lead), *decoded);
  }
  for (const auto& [id, lead] : leads) {
    rows.memo_ids.insert(id);
    if (!MayBeDuplicate(lead.status)) continue;
    if (!lead.email_normalized.empty()) {
      rows.entries[Entry("e/", lead.email_normalized, id)] = "";
    }
    for (const std::string& phone : {lead.phone_e164, lead.mobile_e164}) {
      if (!phone.empty()) rows.entries[Entry("p/", phone, id)] = "";
    }
    if (!lead.customer_id.empty()) {
      rows.entries[Entry("c/", lead.customer_id, id)] = "";
    }
  }
  return rows;
}

DuplicateRows Split(const std::map<std::string, std::string>& all) {
  DuplicateRows rows;
  for (const auto& [key, value] : all) {
    if (key.rfind("m/", 0) == 0) {
      rows.memo_ids.insert(key.substr(2));
    } else {
      rows.entries[key] = value;
    }
  }
  return rows;
}

TEST_F(DuplicateIndexTest, LiveRebuiltAndFromScratchFoldsAgreeKeyByKey) {
  LeadScript history(store_.get(), /*auto_commit=*/false);
  ASSERT_THAT(WriteRandomHistory(history, 3000, 777), IsOk());
  testing::LeadHistory generated(8, absl::FromUnixSeconds(1'800'000'000), "g-");
  ASSERT_THAT(generated.Append(*store_, 3000, 64).status(), IsOk());
  Fold();
  const DuplicateRows expected = DuplicatesFromScratch(AllEvents());
  ASSERT_GT(expected.entries.size(), 100u);
  const std::string name(kDuplicateIndexProjection);
  DuplicateRows live = Split(Rows(name));
  EXPECT_EQ(FirstDifference(live.entries, expected.entries), "");
  EXPECT_EQ(live.memo_ids, expected.memo_ids);
  Rebuild();
  DuplicateRows rebuilt = Split(Rows(name));
  EXPECT_EQ(FirstDifference(rebuilt.entries, expected.entries), "");
  EXPECT_EQ(rebuilt.memo_ids, expected.memo_ids);
}

}  // namespace
}  // namespace leadledger::projections
