// The "leads" read model folded by a real ProjectionRunner over RocksDB:
// every filter and order, text search, paging while leads change, page
// tokens, the bound on work per page, merge chains, and equality of the live,
// rebuilt and from-scratch folds.
#include "projections/lead_list.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

domain::LeadProfile Profile(const std::string& name,
                            const std::string& owner = "",
                            const std::string& team = "",
                            std::set<std::string> tags = {}) {
  return domain::LeadProfile{.display_name = name,
                             .tags = std::move(tags),
                             .owner_id = owner,
                             .team_id = team};
}

class LeadListTest : public ReadModelTest {
 protected:
  // A page read as the service reads it, through a DecodedLeadCache that
  // lives as long as the test.
  absl::StatusOr<LeadListPage> Page(const LeadListQuery& query) {
    Fold();
    std::unique_ptr<ProjectionReader> reader = db_->NewReader();
    return ListLeads(*reader, *db_->Live(kLeadListProjection), query,
                     &decoded_);
  }

  // The same page with every row decoded afresh.
  std::vector<StoredLead> FreshlyDecoded(const LeadListQuery& query) {
    Fold();
    std::unique_ptr<ProjectionReader> reader = db_->NewReader();
    absl::StatusOr<LeadListPage> page =
        ListLeads(*reader, *db_->Live(kLeadListProjection), query);
    EXPECT_THAT(page.status(), IsOk());
    std::vector<StoredLead> leads;
    if (page.ok()) {
      for (const auto& stored : page->leads) leads.push_back(*stored);
    }
    return leads;
  }

  DecodedLeadCache decoded_{1 << 20};

  // The ids of every page of `query`, in order.
  std::vector<std::string> Ids(LeadListQuery query) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      absl::StatusOr<LeadListPage> page = Page(query);
      EXPECT_THAT(page.status(), IsOk());
      if (!page.ok()) break;
      for (const auto& stored : page->leads) ids.push_back(stored->lead.id);
      if (page->next_page_token.empty()) break;
      query.page_token = page->next_page_token;
    }
    return ids;
  }

  std::optional<StoredLead> Read(const std::string& id, bool follow = false) {
    Fold();
    std::unique_ptr<ProjectionReader> reader = db_->NewReader();
    const Keyspace& live = *db_->Live(kLeadListProjection);
    absl::StatusOr<std::optional<StoredLead>> stored =
        follow ? FollowMerges(*reader, live, id) : ReadLead(*reader, live, id);
    EXPECT_THAT(stored.status(), IsOk());
    return stored.ok() ? *stored : std::nullopt;
  }

  void Convert(const std::string& id) {
    ASSERT_THAT(history_->Convert(
                    id, domain::ConvertLead{.customer_action =
                                                domain::CustomerAction::kNone}),
                IsOk());
  }

  void SetUp() override {
    ReadModelTest::SetUp();
    history_ = std::make_unique<LeadScript>(store_.get());
  }

  std::unique_ptr<LeadScript> history_;
};

TEST_F(LeadListTest, EveryFilterSelectsItsLeads) {
  ASSERT_THAT(history_->Create("a", Profile("Solar roof", "u1", "t1", {"vip"})),
              IsOk());
  ASSERT_THAT(
      history_->Create("b", Profile("Heat pump", "u2", "t1", {"vip", "b2b"})),
      IsOk());
  ASSERT_THAT(
      history_->Run("b", domain::ClassifyLead{.outcome_id = "HOT_PROSPECT",
                                              .settings = history_->settings(),
                                              .now = history_->Now()}),
      IsOk());
  ASSERT_THAT(history_->Create("c", Profile("School roof", "u1", "t2")),
              IsOk());
  Convert("c");
  ASSERT_THAT(history_->Create("d", Profile("Garage door", "u1")), IsOk());
  ASSERT_THAT(
      history_->Run("d", domain::MarkLeadLost{.settings = history_->settings(),
                                              .now = history_->Now()}),
      IsOk());
  ASSERT_THAT(history_->Create("e", Profile("Pool cover")), IsOk());
  Convert("e");
  ASSERT_THAT(
      history_->Run("e", domain::MarkLeadWon{.settings = history_->settings(),
                                             .now = history_->Now()}),
      IsOk());
  ASSERT_THAT(history_->Create("f", Profile("Fence")), IsOk());
  ASSERT_THAT(history_->Create("g", Profile("Fence again")), IsOk());
  ASSERT_THAT(history_->Merge({"f", "g"}), IsOk());  // f, the oldest, stays

  // Opportunities before leads, won before active (see ListLeads).
  EXPECT_THAT(Ids({}), ElementsAre("e", "c", "a", "b", "f"));
  EXPECT_THAT(Ids({.kind = domain::LeadKind::kLead}),
              ElementsAre("a", "b", "f"));
  EXPECT_THAT(Ids({.kind = domain::LeadKind::kOpportunity}),
              ElementsAre("e", "c"));
  EXPECT_THAT(Ids({.status = domain::LeadStatus::kActive}),
              ElementsAre("c", "a", "b", "f"));
  EXPECT_THAT(Ids({.status = domain::LeadStatus::kLost}), ElementsAre("d"));
  EXPECT_THAT(Ids({.status = domain::LeadStatus::kWon}), ElementsAre("e"));
  EXPECT_THAT(Ids({.status = domain::LeadStatus::kMerged}), ElementsAre("g"));
  EXPECT_THAT(Ids({.owner_id = "u1"}), ElementsAre("c", "a"));
  EXPECT_THAT(Ids({.status = domain::LeadStatus::kLost, .owner_id = "u1"}),
              ElementsAre("d"));
  EXPECT_THAT(Ids({.team_id = "t1"}), ElementsAre("a", "b"));
  EXPECT_THAT(Ids({.classification = "HOT_PROSPECT"}), ElementsAre("b"));
  EXPECT_THAT(Ids({.tag = "vip"}), ElementsAre("a", "b"));
  EXPECT_THAT(Ids({.tag = "Hot prospect"}), ElementsAre("b"));
  EXPECT_THAT(Ids({.tag = "vi"}), IsEmpty());
  EXPECT_THAT(Ids({.stage = "New"}), ElementsAre("c"));
  EXPECT_THAT(Ids({.stage = "Won"}), ElementsAre("e"));
  EXPECT_THAT(Ids({.text = "roof"}), ElementsAre("c", "a"));
  EXPECT_THAT(Ids({.owner_id = "u1", .tag = "vip"}), ElementsAre("a"));
  EXPECT_THAT(Ids({.owner_id = "u2", .tag = "vip", .text = "heat"}),
              ElementsAre("b"));
  EXPECT_THAT(Ids({.kind = domain::LeadKind::kLead, .owner_id = "u1"}),
              ElementsAre("a"));
}

TEST_F(LeadListTest, OrdersByCreationEitherWayOrByLastChange) {
  for (const char* id : {"l1", "l2", "l3", "l4"}) {
    ASSERT_THAT(history_->Create(id, Profile(id)), IsOk());
  }
  ASSERT_THAT(history_->Run(
                  "l2", domain::SetProbabilityOverride{.value = 40,
                                                       .now = history_->Now()}),
              IsOk());
  EXPECT_THAT(Ids({}), ElementsAre("l1", "l2", "l3", "l4"));
  EXPECT_THAT(Ids({.order = LeadOrder::kCreatedDescending}),
              ElementsAre("l4", "l3", "l2", "l1"));
  EXPECT_THAT(Ids({.order = LeadOrder::kUpdatedDescending}),
              ElementsAre("l2", "l4", "l3", "l1"));
  EXPECT_THAT(Ids({.order = LeadOrder::kUpdatedDescending, .page_size = 1}),
              ElementsAre("l2", "l4", "l3", "l1"));
  EXPECT_THAT(Ids({.text = "l3", .order = LeadOrder::kUpdatedDescending}),
              ElementsAre("l3"));
}

TEST_F(LeadListTest, TextMatchesWordPrefixesAndReturnsEachLeadOnce) {
  domain::LeadProfile x = Profile("Ana Anabel");
  x.email = "ana@anabel.com";
  ASSERT_THAT(history_->Create("x", x), IsOk());
  ASSERT_THAT(history_->Create("y", Profile("Banana stand")), IsOk());
  domain::LeadProfile z = Profile("Roof");
  z.contact_name = "Ana García";
  z.company_name = "O'Brien & Sons";
  ASSERT_THAT(history_->Create("z", z), IsOk());

  // "ana" prefixes four tokens of x: ana, anabel, ana@anabel.com, and "ana"
  // of its email.
  EXPECT_THAT(Ids({.text = "ana"}), ElementsAre("x", "z"));
  EXPECT_THAT(Ids({.text = "ANA", .order = LeadOrder::kCreatedDescending}),
              ElementsAre("z", "x"));
  EXPECT_THAT(Ids({.text = "ana", .page_size = 1}), ElementsAre("x", "z"));
  EXPECT_THAT(Ids({.text = "ana",
                   .order = LeadOrder::kCreatedDescending,
                   .page_size = 1}),
              ElementsAre("z", "x"));
  EXPECT_THAT(Ids({.text = "ana@anab"}), ElementsAre("x"));
  EXPECT_THAT(Ids({.text = "ana gar"}), ElementsAre("z"));
  EXPECT_THAT(Ids({.text = "  garc\xC3\xAD "}), ElementsAre("z"));
  EXPECT_THAT(Ids({.text = "o'brien"}), ElementsAre("z"));
  EXPECT_THAT(Ids({.text = "nana"}), IsEmpty());
  EXPECT_THAT(Ids({.text = "ban"}), ElementsAre("y"));
}

TEST_F(LeadListTest, SearchTokensAreBounded) {
  domain::Lead lead;
  lead.email_normalized = "someone@example.com";
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&lead.profile.display_name, "word", i, " ");
  }
  const std::vector<std::string> tokens = SearchTokens(lead);
  EXPECT_THAT(tokens, SizeIs(kMaxSearchTokensPerLead));
  EXPECT_TRUE(std::is_sorted(tokens.begin(), tokens.end()));
  EXPECT_THAT(tokens, ::testing::Contains("someone@example.com"));
  domain::Lead long_name;
  long_name.profile.display_name = std::string(200, 'q');
  EXPECT_THAT(SearchTokens(long_name),
              ElementsAre(std::string(kMaxSearchTokenLength, 'q')));
}

// A lead's index entries are appended to runs ordered by the position that
// created their lead (its updated-time entry, by its last position): the
// run is the key without that position. Rows, and the search entry of a
// whole email (it names one lead), are written anywhere.
TEST(LeadListSpecTest, IndexEntriesRunUpToTheirPosition) {
  StoredLead stored{
      .version = 2, .created_position = 0x0100, .last_position = 0x2a00};
  stored.lead.exists = true;
  stored.lead.profile.display_name = "Ana Lima";
  stored.lead.profile.owner_id = "owner-1";
  stored.lead.profile.team_id = "team-1";
  stored.lead.profile.tags = {"hot"};
  stored.lead.classification = "PROMISING";
  stored.lead.stage = "new";
  stored.lead.email_normalized = "ana@example.com";
  const std::function<size_t(absl::string_view)> run_length =
      LeadListSpec().append_run_length;
  ASSERT_TRUE(run_length);
  const std::vector<std::string> keys = LeadIndexKeys(stored);
  ASSERT_THAT(keys, SizeIs(::testing::Gt(8u)));
  int emails = 0;
  for (const std::string& key : keys) {
    if (absl::StrContains(key, "/text/ana@example.com")) {
      ++emails;
      EXPECT_EQ(run_length(key), 0u) << absl::CEscape(key);
    } else {
      EXPECT_EQ(run_length(key), key.size() - 8) << absl::CEscape(key);
    }
  }
  EXPECT_EQ(emails, 1);
  EXPECT_EQ(run_length(LeadRowKey("l1")), 0u);
}

// Pages through `query` while, before each page, new leads are created and
// some existing ones change; returns every id returned.
class PagingWhileWritingTest : public LeadListTest,
                               public ::testing::WithParamInterface<LeadOrder> {
};

TEST_P(PagingWhileWritingTest, NeverReturnsALeadTwiceNorSkipsOneInPlace) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_THAT(history_->Create(absl::StrCat("s", i),
                                 Profile(absl::StrCat("lead ", i), "u1")),
                IsOk());
  }
  // Leads that change between pages; the others stay in place.
  std::set<std::string> moved;
  LeadListQuery query{.owner_id = "u1", .order = GetParam(), .page_size = 4};
  std::vector<std::string> returned;
  int round = 0;
  for (; round < 100; ++round) {
    absl::StatusOr<LeadListPage> page = Page(query);
    ASSERT_THAT(page.status(), IsOk());
    // Leads changed since the cache decoded them come as they are now.
    std::vector<StoredLead> fresh = FreshlyDecoded(query);
    ASSERT_EQ(page->leads.size(), fresh.size());
    for (size_t i = 0; i < fresh.size(); ++i) {
      EXPECT_EQ(*page->leads[i], fresh[i]) << fresh[i].lead.id;
    }
    for (const auto& stored : page->leads) {
      returned.push_back(stored->lead.id);
    }
    if (page->next_page_token.empty()) break;
    query.page_token = page->next_page_token;
    // Between pages: two new leads, a change to an old one (which moves it
    // in the last-change order), and a conversion (which moves it to the
    // opportunities).
    for (int k = 0; k < 2; ++k) {
      ASSERT_THAT(history_->Create(absl::StrCat("n", round, "-", k),
                                   Profile("new lead", "u1")),
                  IsOk());
    }
    const std::string changed = absl::StrCat("s", (round * 7) % 30);
    const std::string converted = absl::StrCat("s", (round * 11 + 3) % 30);
    if (history_
            ->Run(changed,
                  domain::SetProbabilityOverride{
                      .value = static_cast<double>(round),
                      .now = history_->Now()})
            .ok()) {
      if (GetParam() == LeadOrder::kUpdatedDescending) moved.insert(changed);
    }
    if (history_
            ->Convert(converted,
                      domain::ConvertLead{.customer_action =
                                              domain::CustomerAction::kNone})
            .ok()) {
      moved.insert(converted);
    }
  }
  ASSERT_LT(round, 100);
  std::set<std::string> distinct(returned.begin(), returned.end());
  EXPECT_EQ(distinct.size(), returned.size()) << "a lead came twice";
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("s", i);
    if (!moved.contains(id)) {
      EXPECT_TRUE(distinct.contains(id)) << id << " was skipped";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryOrder, PagingWhileWritingTest,
                         ::testing::Values(LeadOrder::kCreatedAscending,
                                           LeadOrder::kCreatedDescending,
                                           LeadOrder::kUpdatedDescending));

TEST_F(LeadListTest, PagesReuseDecodedLeadsOnlyWhileTheirRowsStay) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(history_->Create(absl::StrCat("d", i),
                                 Profile(absl::StrCat("lead ", i), "u1")),
                IsOk());
  }
  const LeadListQuery query{.owner_id = "u1"};
  ASSERT_THAT(Page(query).status(), IsOk());
  EXPECT_EQ(decoded_.GetStats().misses, 5u);
  for (const std::string id : {"d1", "d3"}) {
    ASSERT_THAT(history_->Run(
                    id, domain::SetProbabilityOverride{.value = 42,
                                                       .now = history_->Now()}),
                IsOk());
  }
  absl::StatusOr<LeadListPage> page = Page(query);
  ASSERT_THAT(page.status(), IsOk());
  const DecodedLeadCache::Stats stats = decoded_.GetStats();
  EXPECT_EQ(stats.hits, 3u);
  EXPECT_EQ(stats.misses, 7u);
  const std::vector<StoredLead> fresh = FreshlyDecoded(query);
  ASSERT_EQ(page->leads.size(), fresh.size());
  for (size_t i = 0; i < fresh.size(); ++i) {
    EXPECT_EQ(*page->leads[i], fresh[i]) << fresh[i].lead.id;
    const bool changed = fresh[i].lead.id == "d1" || fresh[i].lead.id == "d3";
    EXPECT_EQ(page->leads[i]->lead.probability.override_value.has_value(),
              changed)
        << fresh[i].lead.id;
  }
}

TEST_F(LeadListTest, PageTokensBelongToTheirQuery) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(history_->Create(absl::StrCat("p", i), Profile("x", "u1")),
                IsOk());
  }
  absl::StatusOr<LeadListPage> first = Page({.owner_id = "u1", .page_size = 2});
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_FALSE(first->next_page_token.empty());
  const std::string token = first->next_page_token;

  // The page size may change between pages; the filters and order may not.
  absl::StatusOr<LeadListPage> rest =
      Page({.owner_id = "u1", .page_size = 10, .page_token = token});
  ASSERT_THAT(rest.status(), IsOk());
  EXPECT_THAT(rest->leads, SizeIs(3));
  EXPECT_THAT(rest->next_page_token, IsEmpty());
  EXPECT_THAT(
      Page({.owner_id = "u2", .page_token = token}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(
      Page({.owner_id = "u1",
            .order = LeadOrder::kCreatedDescending,
            .page_token = token}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(
      Page({.page_token = "not a token!"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  // Right format and query, but a key outside the query's ranges.
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  std::string forged;
  absl::WebSafeBase64Escape(raw.substr(0, raw.rfind("i/LA/owner/")) + "r/p1",
                            &forged);
  EXPECT_THAT(
      Page({.owner_id = "u1", .page_token = forged}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(
      Page({.page_size = 0}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(
      Page({.page_size = kMaxLeadPageSize + 1}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

TEST_F(LeadListTest, APageExaminesBoundedEntriesAndTheTokenCompletesTheScan) {
  LeadScript batched(store_.get(), /*auto_commit=*/false);
  for (int i = 0; i < 150; ++i) {
    const bool wanted = i == 120 || i == 130 || i == 140;
    ASSERT_THAT(
        batched.Create(absl::StrCat("b", i),
                       Profile("x", wanted ? "y" : "x", "", {"common"})),
        IsOk());
  }
  ASSERT_THAT(batched.Commit(), IsOk());
  // The tag index serves the scan; the owner is checked on each row.
  LeadListQuery query{.owner_id = "y", .tag = "common", .page_size = 2};
  absl::StatusOr<LeadListPage> first = Page(query);  // examines 100 entries
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_THAT(first->leads, IsEmpty());
  ASSERT_FALSE(first->next_page_token.empty());
  query.page_token = first->next_page_token;
  absl::StatusOr<LeadListPage> second = Page(query);
  ASSERT_THAT(second.status(), IsOk());
  ASSERT_THAT(second->leads, SizeIs(2));
  EXPECT_EQ(second->leads[0]->lead.id, "b120");
  EXPECT_EQ(second->leads[1]->lead.id, "b130");
  ASSERT_FALSE(second->next_page_token.empty());
  query.page_token = second->next_page_token;
  absl::StatusOr<LeadListPage> third = Page(query);
  ASSERT_THAT(third.status(), IsOk());
  ASSERT_THAT(third->leads, SizeIs(1));
  EXPECT_EQ(third->leads[0]->lead.id, "b140");
  EXPECT_THAT(third->next_page_token, IsEmpty());

  query.page_token.clear();
  query.max_examined = 7;
  EXPECT_THAT(Ids(query), ElementsAre("b120", "b130", "b140"));
}

TEST_F(LeadListTest, PagesAreExactPastDeletedEntriesAndRowsTheFilterDrops) {
  LeadScript batched(store_.get(), /*auto_commit=*/false);
  for (int i = 0; i < 240; ++i) {
    ASSERT_THAT(
        batched.Create(absl::StrCat("m", i),
                       Profile("x", i % 3 == 0 ? "u1" : "u2", "", {"common"})),
        IsOk());
  }
  ASSERT_THAT(batched.Commit(), IsOk());
  Fold();
  // The first 150 leave the active scope: their entries there are deleted,
  // in front of the ones that remain.
  for (int i = 0; i < 150; ++i) {
    ASSERT_THAT(batched.Run(absl::StrCat("m", i),
                            domain::MarkLeadLost{.settings = batched.settings(),
                                                 .now = batched.Now()}),
                IsOk());
  }
  ASSERT_THAT(batched.Commit(), IsOk());
  std::vector<std::string> all;
  std::vector<std::string> of_u1;
  for (int i = 150; i < 240; ++i) {
    all.push_back(absl::StrCat("m", i));
    if (i % 3 == 0) of_u1.push_back(absl::StrCat("m", i));
  }
  for (int page_size : {1, 2, 7, 50, 100}) {
    EXPECT_EQ(Ids({.page_size = page_size}), all) << page_size;
    // The tag index serves the scan and the owner is checked on each row:
    // pages fill from several reads of rows, most of them dropped.
    EXPECT_EQ(Ids({.owner_id = "u1", .tag = "common", .page_size = page_size}),
              of_u1)
        << page_size;
    EXPECT_EQ(Ids({.owner_id = "u1",
                   .tag = "common",
                   .page_size = page_size,
                   .max_examined = 5}),
              of_u1)
        << page_size;
  }
  absl::StatusOr<LeadListPage> page =
      Page({.owner_id = "u1", .tag = "common", .page_size = 30});
  ASSERT_THAT(page.status(), IsOk());
  std::vector<std::string> ids;
  for (const auto& stored : page->leads) ids.push_back(stored->lead.id);
  EXPECT_EQ(ids, of_u1);
}

TEST_F(LeadListTest, AMergedLeadKeepsItsRowAndLeadsToTheSurvivor) {
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_THAT(history_->Create(id, Profile(id)), IsOk());
  }
  ASSERT_THAT(history_->Merge({"a", "b"}), IsOk());  // b into a (the oldest)
  Convert("c");
  ASSERT_THAT(history_->Merge({"a", "c"}), IsOk());  // a into c (opportunity)

  std::optional<StoredLead> b = Read("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->lead.status, domain::LeadStatus::kMerged);
  EXPECT_EQ(b->lead.merged_into, "a");
  std::optional<StoredLead> survivor = Read("b", /*follow=*/true);
  ASSERT_TRUE(survivor.has_value());
  EXPECT_EQ(survivor->lead.id, "c");
  EXPECT_EQ(Read("c", true)->lead.id, "c");
  EXPECT_FALSE(Read("nobody", true).has_value());
  EXPECT_THAT(Ids({.status = domain::LeadStatus::kMerged}),
              UnorderedElementsAre("a", "b"));
  EXPECT_THAT(Ids({}), ElementsAre("c"));
}

TEST(LeadRowTest, KeepsTheLeadButTheIdsOfItsPastTasks) {
  StoredLead stored{.version = 7, .created_position = 3, .last_position = 40};
  stored.lead.exists = true;
  stored.lead.id = "l1";
  stored.lead.profile.display_name = "Solar roof";
  stored.lead.create_time = absl::FromUnixSeconds(1'800'000'000);
  stored.lead.update_time = absl::FromUnixSeconds(1'800'000'500);
  stored.lead.open_tasks["t9"] =
      domain::Task{.id = "t9",
                   .owner_id = "ana",
                   .title = "Call back",
                   .due_time = absl::FromUnixSeconds(1'800'086'400)};
  const std::string without_past = EncodeLeadRow(stored);
  for (int i = 0; i < 1000; ++i) {
    stored.lead.known_task_ids.insert(absl::StrCat("followup-", i));
  }
  // A busy lead's row does not grow with its history of follow-ups.
  EXPECT_EQ(EncodeLeadRow(stored), without_past);
  absl::StatusOr<StoredLead> decoded = DecodeLeadRow(without_past);
  ASSERT_THAT(decoded.status(), IsOk());
  stored.lead.known_task_ids.clear();
  EXPECT_EQ(*decoded, stored);
  // Rows written when they kept the ids (field 19) still read.
  decoded = DecodeLeadRow(without_past + "\x9a\x01\x02t1");
  ASSERT_THAT(decoded.status(), IsOk());
  EXPECT_EQ(*decoded, stored);
}

// The rows a fold of the whole log from nothing gives, with Evolve alone.
std::map<std::string, std::string> LeadListFromScratch(
    const std::vector<eventstore::RecordedEvent>& events) {
  std::map<std::string, StoredLead> leads;
  for (const eventstore::RecordedEvent& event : events) {
    if (event.stream.rfind("lead-", 0) != 0) continue;
    absl::StatusOr<domain::LeadEvent> decoded = DecodeLeadEvent(event);
    EXPECT_THAT(decoded.status(), IsOk());
    if (!decoded.ok()) continue;
    StoredLead& stored = leads[event.stream.substr(5)];
    stored.lead = domain::Evolve(std::move(stored.lead), *decoded);
    if (stored.created_position == 0) stored.created_position = event.position;
    stored.last_position = event.position;
    stored.version = event.stream_version;
  }
  std::map<std::string, std::string> rows;
  for (const auto& [id, stored] : leads) {
    rows[LeadRowKey(id)] = EncodeLeadRow(stored);
    for (std::string& key : LeadIndexKeys(stored)) rows[key] = id;
  }
  return rows;
}

TEST_F(LeadListTest, LiveRebuiltAndFromScratchFoldsAgreeKeyByKey) {
  LeadScript history(store_.get(), /*auto_commit=*/false);
  ASSERT_THAT(WriteRandomHistory(history, 5000, 20240611), IsOk());
  // And the realistic mix, with tasks and follow-ups.
  testing::LeadHistory generated(7, absl::FromUnixSeconds(1'800'000'000), "g-");
  ASSERT_THAT(generated.Append(*store_, 3000, 64).status(), IsOk());
  Fold();
  const std::map<std::string, std::string> expected =
      LeadListFromScratch(AllEvents());
  ASSERT_GT(expected.size(), 1000u);
  const std::string live_id = db_->Live(kLeadListProjection)->id();
  EXPECT_EQ(FirstDifference(Rows(std::string(kLeadListProjection)), expected),
            "");
  Rebuild();
  ASSERT_NE(db_->Live(kLeadListProjection)->id(), live_id);
  EXPECT_EQ(FirstDifference(Rows(std::string(kLeadListProjection)), expected),
            "");
  // The rebuilt keyspace answers queries as the live one did.
  std::vector<std::string> active;
  for (const std::string& id : history.ids()) {
    if (history.lead(id).status == domain::LeadStatus::kActive) {
      active.push_back(id);
    }
  }
  std::vector<std::string> listed =
      Ids({.status = domain::LeadStatus::kActive, .page_size = 37});
  std::erase_if(listed, [](const std::string& id) {
    return id.rfind("g-", 0) == 0;  // the generator's leads
  });
  EXPECT_THAT(listed, UnorderedElementsAreArray(active));
}

}  // namespace
}  // namespace leadledger::projections
