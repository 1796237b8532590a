// Merging duplicates (SPEC §5) and conversion (SPEC §4).
#include <string>
#include <vector>

#include "domain/lead_decider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/domain/lead_test_util.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::domain {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using namespace ::leadledger::domain::testing;  // NOLINT: test vocabulary.

MergeLeads MergeOf(std::vector<std::string> ids) {
  return MergeLeads{.lead_ids = std::move(ids), .now = At(50)};
}

std::vector<std::string> IdsOf(const std::vector<Lead>& leads) {
  std::vector<std::string> ids;
  for (const Lead& lead : leads) ids.push_back(lead.id);
  return ids;
}

MergeDecision Merge(const std::vector<Lead>& leads) {
  absl::StatusOr<MergeDecision> decision =
      DecideMerge(leads, MergeOf(IdsOf(leads)));
  EXPECT_THAT(decision, IsOk());
  return decision.ok() ? *decision : MergeDecision{};
}

// The state of `lead` after the decision's events for it.
Lead After(const Lead& lead, const MergeDecision& decision) {
  Lead state = lead;
  for (const auto& [id, events] : decision.events) {
    if (id != lead.id) continue;
    for (const LeadEvent& event : events) state = Evolve(state, event);
  }
  return state;
}

// --- Head choice, rule by rule ---

struct HeadCase {
  std::string name;
  Lead first;
  Lead second;
  std::string expected_head;
};

Lead Opportunity(std::string id, std::string stage = "New") {
  Lead lead = Given({Created(id, LeadKind::kOpportunity)});
  lead.stage = std::move(stage);
  return lead;
}

std::vector<HeadCase> HeadCases() {
  Lead lead_a = Given({Created("a", LeadKind::kLead, At(1))});
  Lead lead_b = Given({Created("b", LeadKind::kLead, At(2))});
  Lead lost_a = Given({Created("a"), LeadLost{.time = At(3)}});
  Lead likely_b = Given(
      {Created("b"), AutomatedProbabilityChanged{.value = 60, .time = At(2)}});
  Lead unlikely_a = Given(
      {Created("a"), AutomatedProbabilityChanged{.value = 20, .time = At(2)}});
  Lead overridden_a = unlikely_a;
  overridden_a.probability.override_value = 90;
  return {
      {"OpportunityBeforeLead", lead_a, Opportunity("b"), "b"},
      {"ActiveBeforeLost", lost_a, lead_b, "b"},
      {"LaterStageFirst", Opportunity("a", "New"),
       Opportunity("b", "Proposition"), "b"},
      {"HigherProbabilityFirst", unlikely_a, likely_b, "b"},
      {"OverrideCountsAsProbability", overridden_a, likely_b, "a"},
      {"ThenTheOldest", lead_b, lead_a, "a"},
  };
}

class MergeHeadTest : public ::testing::TestWithParam<HeadCase> {};

TEST_P(MergeHeadTest, HeadFollowsTheOrder) {
  const HeadCase& c = GetParam();
  EXPECT_EQ(Merge({c.first, c.second}).head_id, c.expected_head);
  EXPECT_EQ(Merge({c.second, c.first}).head_id, c.expected_head);
}

INSTANTIATE_TEST_SUITE_P(Rules, MergeHeadTest, ::testing::ValuesIn(HeadCases()),
                         [](const auto& info) { return info.param.name; });

// --- Field resolution ---

TEST(MergeTest, ResolvesFieldsHeadFirst) {
  Lead head = Given({Created("h", LeadKind::kOpportunity, At(1))});
  head.profile.display_name = "Roof";
  head.profile.description = "Big roof";
  head.profile.tags = {"roof"};
  head.profile.priority = 1;
  head.profile.address = {.city = "Sevilla"};
  head.probability.automated = 30;
  Lead other = Given({Created("o", LeadKind::kLead, At(0))});
  other.profile.display_name = "Roof again";
  other.profile.contact_name = "Ana";
  other.profile.email = "ana@x.es";
  other.email_normalized = "ana@x.es";
  other.email_state = ContactState::kCorrect;
  other.profile.description = "Called twice";
  other.profile.tags = {"solar"};
  other.profile.priority = 3;
  other.profile.address = {
      .street = "Calle 1", .city = "Cádiz", .zip = "11001"};
  other.customer_id = "c9";
  other.probability.automated = 80;

  MergeDecision decision = Merge({other, head});
  ASSERT_EQ(decision.head_id, "h");
  Lead merged = After(head, decision);
  EXPECT_EQ(merged.profile.display_name, "Roof");   // The head's.
  EXPECT_EQ(merged.profile.contact_name, "Ana");    // First non-empty.
  EXPECT_EQ(merged.email_normalized, "ana@x.es");   // With its source.
  EXPECT_EQ(merged.profile.address.city, "Cádiz");  // Fullest block.
  EXPECT_EQ(merged.profile.address.street, "Calle 1");
  EXPECT_THAT(merged.profile.tags, ElementsAre("roof", "solar"));
  EXPECT_EQ(merged.profile.priority, 3);  // The maximum.
  EXPECT_EQ(merged.kind, LeadKind::kOpportunity);
  EXPECT_EQ(merged.probability.automated, 30);  // The head's.
  EXPECT_EQ(merged.customer_id, "c9");
  EXPECT_EQ(merged.profile.description,
            "[from Roof (leads/h)]\nBig roof\n\n"
            "[from Roof again (leads/o)]\nCalled twice");

  Lead away = After(other, decision);
  EXPECT_EQ(away.status, LeadStatus::kMerged);
  EXPECT_EQ(away.merged_into, "h");
}

TEST(MergeTest, CommandAssignsOwnerAndTeam) {
  Lead a = Given({Created("a")});
  a.profile.owner_id = "old";
  MergeLeads command = MergeOf({"a", "b"});
  command.owner_id = "u7";
  command.team_id = "t2";
  absl::StatusOr<MergeDecision> decision =
      DecideMerge({a, Given({Created("b")})}, command);
  ASSERT_THAT(decision, IsOk());
  Lead merged = After(a, *decision);
  EXPECT_EQ(merged.profile.owner_id, "u7");
  EXPECT_EQ(merged.profile.team_id, "t2");
}

TEST(MergeTest, LostLeadsMergeIntoAnActiveResult) {
  Lead a =
      Given({Created("a", LeadKind::kLead, At(0)), LeadLost{.time = At(1)}});
  Lead b =
      Given({Created("b", LeadKind::kLead, At(2)), LeadLost{.time = At(3)}});
  MergeDecision decision = Merge({a, b});
  EXPECT_EQ(After(a, decision).status, LeadStatus::kActive);
  EXPECT_EQ(After(a, decision).closed_time, std::nullopt);
}

TEST(MergeTest, OpenTasksMoveToTheHeadKeepingOneAutomaticFollowUp) {
  Lead head = Given(
      {Created("h", LeadKind::kOpportunity),
       TaskScheduled{.task = FollowUpTask("h-auto", At(500)), .time = At(1)}});
  Lead other = Given(
      {Created("o"),
       TaskScheduled{.task = FollowUpTask("o-auto", At(100)), .time = At(1)},
       TaskScheduled{.task = FollowUpTask("o-call", At(90), false),
                     .time = At(1)}});
  MergeDecision decision = Merge({head, other});
  Lead merged = After(head, decision);
  EXPECT_THAT(merged.open_tasks, SizeIs(2));
  EXPECT_EQ(merged.OpenAutomaticFollowUp()->id, "h-auto");
  EXPECT_EQ(merged.open_tasks.count("o-call"), 1u);
  EXPECT_THAT(After(other, decision).open_tasks, IsEmpty());
  // The surplus follow-up is cancelled on its own stream, before the merge.
  const auto& [away_id, away_events] = decision.events[1];
  EXPECT_EQ(away_id, "o");
  ASSERT_THAT(away_events, SizeIs(2));
  EXPECT_EQ(std::get<TaskCancelled>(away_events[0]).task_id, "o-auto");
}

TEST(MergeTest, WithoutAHeadFollowUpTheEarliestIsKept) {
  Lead head = Given({Created("h", LeadKind::kOpportunity)});
  Lead b =
      Given({Created("b"), TaskScheduled{.task = FollowUpTask("late", At(900)),
                                         .time = At(1)}});
  Lead c =
      Given({Created("c"), TaskScheduled{.task = FollowUpTask("soon", At(100)),
                                         .time = At(1)}});
  Lead merged = After(head, Merge({head, b, c}));
  ASSERT_NE(merged.OpenAutomaticFollowUp(), nullptr);
  EXPECT_EQ(merged.OpenAutomaticFollowUp()->id, "soon");
  EXPECT_THAT(merged.open_tasks, SizeIs(1));
}

TEST(MergeTest, RefusesWhatCannotBeMerged) {
  Lead a = Given({Created("a")});
  Lead b = Given({Created("b")});
  Lead won = Given({Created("w", LeadKind::kOpportunity),
                    LeadWon{.stage = "Won", .time = At(1)}});
  Lead merged_away =
      Given({Created("m"), LeadMergedInto{.head_id = "a", .time = At(1)}});
  EXPECT_THAT(DecideMerge({a}, MergeOf({"a"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("two")));
  EXPECT_THAT(
      DecideMerge({a, a}, MergeOf({"a", "a"})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("itself")));
  EXPECT_THAT(
      DecideMerge({a, won}, MergeOf({"a", "w"})),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("won")));
  EXPECT_THAT(DecideMerge({a, merged_away}, MergeOf({"a", "m"})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("merged into lead a")));
  EXPECT_THAT(DecideMerge({a, Lead{}}, MergeOf({"a", "ghost"})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ghost")));
  EXPECT_THAT(DecideMerge({a, b}, MergeOf({"a", "b", "c"})),
              StatusIs(absl::StatusCode::kInternal));
  std::vector<std::string> many;
  std::vector<Lead> states;
  for (size_t i = 0; i <= kMaxMergeLeads; ++i) {
    many.push_back("l" + std::to_string(i));
    states.push_back(Given({Created(many.back())}));
  }
  EXPECT_THAT(DecideMerge(states, MergeOf(many)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("50")));
  many.pop_back();
  states.pop_back();
  EXPECT_THAT(DecideMerge(states, MergeOf(many)), IsOk());
}

// --- Conversion ---

ConvertLead Convert(CustomerAction action) {
  return ConvertLead{.owner_id = "u5",
                     .team_id = "t1",
                     .customer_action = action,
                     .new_customer_id = "c-new",
                     .now = At(10)};
}

Lead Named(std::string contact, std::string company) {
  Lead lead = Given({Created("l1")});
  lead.profile.contact_name = std::move(contact);
  lead.profile.company_name = std::move(company);
  lead.profile.email = "ana@x.es";
  lead.email_normalized = "ana@x.es";
  return lead;
}

TEST(ConvertTest, ConvertMakesAnOpportunityInTheFirstStage) {
  absl::StatusOr<ConversionDecision> decision =
      DecideConversion(Named("", ""), Convert(CustomerAction::kNone), {});
  ASSERT_THAT(decision, IsOk());
  ASSERT_THAT(decision->lead_events, SizeIs(1));
  Lead lead = Named("", "");
  lead = Evolve(lead, decision->lead_events[0]);
  EXPECT_EQ(lead.kind, LeadKind::kOpportunity);
  EXPECT_EQ(lead.stage, "New");
  EXPECT_EQ(lead.profile.owner_id, "u5");
  EXPECT_EQ(lead.profile.team_id, "t1");
  EXPECT_EQ(lead.conversion_time, At(10));
  EXPECT_EQ(lead.customer_id, "");  // NONE links nothing.
  EXPECT_THAT(decision->customer_events, IsEmpty());
}

TEST(ConvertTest, CreateNewCustomerFromTheLead) {
  absl::StatusOr<ConversionDecision> decision = DecideConversion(
      Named("Ana Ruiz", "Ruiz SL"), Convert(CustomerAction::kCreateNew), {});
  ASSERT_THAT(decision, IsOk());
  EXPECT_EQ(decision->created_customer_id, "c-new");
  ASSERT_THAT(decision->customer_events, SizeIs(1));
  const CustomerCreated& created =
      std::get<CustomerCreated>(decision->customer_events[0]);
  EXPECT_EQ(created.profile.kind, CustomerKind::kCompany);
  EXPECT_EQ(created.profile.name, "Ruiz SL");
  EXPECT_EQ(created.profile.email_normalized, "ana@x.es");
  EXPECT_EQ(std::get<CustomerLinked>(decision->lead_events[1]).customer_id,
            "c-new");
}

TEST(ConvertTest, LinkExistingNeedsTheCustomer) {
  ConvertLead command = Convert(CustomerAction::kLinkExisting);
  command.customer_id = "c1";
  Customer c1{.exists = true, .id = "c1"};
  absl::StatusOr<ConversionDecision> decision =
      DecideConversion(Named("", ""), command, {.linked_customer = c1});
  ASSERT_THAT(decision, IsOk());
  EXPECT_EQ(std::get<CustomerLinked>(decision->lead_events[1]).customer_id,
            "c1");
  EXPECT_THAT(DecideConversion(Named("", ""), command, {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("c1")));
  command.customer_id = "";
  EXPECT_THAT(
      DecideConversion(Named("", ""), command, {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("customer_id")));
}

TEST(ConvertTest, DefaultLinksByEmailElseCreatesElseNothing) {
  const ConvertLead command = Convert(CustomerAction::kDefault);
  Customer by_email{.exists = true, .id = "c-mail"};
  absl::StatusOr<ConversionDecision> linked =
      DecideConversion(Named("Ana", ""), command, {.email_match = by_email});
  ASSERT_THAT(linked, IsOk());
  EXPECT_EQ(std::get<CustomerLinked>(linked->lead_events[1]).customer_id,
            "c-mail");
  EXPECT_THAT(linked->customer_events, IsEmpty());

  absl::StatusOr<ConversionDecision> created =
      DecideConversion(Named("Ana", ""), command, {});
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->created_customer_id, "c-new");
  EXPECT_EQ(std::get<CustomerCreated>(created->customer_events[0]).profile.kind,
            CustomerKind::kPerson);

  absl::StatusOr<ConversionDecision> none =
      DecideConversion(Named("", ""), command, {});
  ASSERT_THAT(none, IsOk());
  EXPECT_THAT(none->lead_events, SizeIs(1));

  Lead already = Named("Ana", "");
  already.customer_id = "c-old";
  absl::StatusOr<ConversionDecision> kept =
      DecideConversion(already, command, {});
  ASSERT_THAT(kept, IsOk());
  EXPECT_THAT(kept->lead_events, SizeIs(1));
}

TEST(ConvertTest, OnlyActiveLeadsConvert) {
  const ConvertLead command = Convert(CustomerAction::kNone);
  EXPECT_THAT(
      DecideConversion(Given({Created("l1"), LeadLost{.time = At(1)}}), command,
                       {}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("lost")));
  EXPECT_THAT(DecideConversion(Given({Created("o", LeadKind::kOpportunity)}),
                               command, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already an opportunity")));
  EXPECT_THAT(
      DecideConversion(
          Given({Created("l1"), LeadMergedInto{.head_id = "x", .time = At(1)}}),
          command, {}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("merged")));
  ConvertLead no_pipeline = command;
  no_pipeline.settings.pipeline_stages.clear();
  EXPECT_THAT(DecideConversion(Given({Created("l1")}), no_pipeline, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ConvertLead unnamed = Convert(CustomerAction::kCreateNew);
  unnamed.new_customer_id = "";
  EXPECT_THAT(
      DecideConversion(Named("Ana", ""), unnamed, {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("customer_id")));
}

TEST(ConvertTest, MergeActionMergesIntoTheOpportunities) {
  Lead lead = Given({Created("l1")});
  Lead opportunity = Opportunity("o1");
  absl::StatusOr<MergeDecision> decision =
      DecideConversionByMerge(lead, {opportunity}, MergeOf({"l1", "o1"}));
  ASSERT_THAT(decision, IsOk());
  EXPECT_EQ(decision->head_id, "o1");
  EXPECT_EQ(After(lead, *decision).status, LeadStatus::kMerged);

  EXPECT_THAT(
      DecideConversionByMerge(lead, {}, MergeOf({"l1"})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("opportunities")));
  EXPECT_THAT(DecideConversionByMerge(lead, {Given({Created("l2")})},
                                      MergeOf({"l1", "l2"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not an opportunity")));
  EXPECT_THAT(
      DecideConversionByMerge(opportunity, {lead}, MergeOf({"o1", "l1"})),
      StatusIs(absl::StatusCode::kFailedPrecondition));
}

// --- Customers ---

TEST(CustomerTest, CreateOnceWithAName) {
  const CreateCustomer create{
      .customer_id = "c1", .profile = {.name = "Ana"}, .now = At(1)};
  absl::StatusOr<std::vector<CustomerEvent>> events =
      DecideCustomer(Customer{}, create);
  ASSERT_THAT(events, IsOk());
  Customer customer = EvolveCustomer(Customer{}, (*events)[0]);
  EXPECT_TRUE(customer.exists);
  EXPECT_EQ(customer.profile.name, "Ana");
  EXPECT_EQ(customer.create_time, At(1));
  EXPECT_THAT(DecideCustomer(customer, create),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(DecideCustomer(Customer{},
                             CreateCustomer{.customer_id = "", .profile = {}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecideCustomer(Customer{}, CreateCustomer{.customer_id = "c2",
                                                        .profile = {}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
}

TEST(CustomerTest, FromLeadPrefersCompanyThenContactThenDisplayName) {
  Lead lead = Given({Created("l1")});
  lead.profile.phone = "";
  lead.profile.mobile = "600";
  EXPECT_EQ(CustomerFromLead(lead).name, "Lead l1");
  EXPECT_EQ(CustomerFromLead(lead).phone, "600");
  lead.profile.contact_name = "Ana";
  EXPECT_EQ(CustomerFromLead(lead).name, "Ana");
  EXPECT_EQ(CustomerFromLead(lead).kind, CustomerKind::kPerson);
  lead.profile.company_name = "Ruiz SL";
  EXPECT_EQ(CustomerFromLead(lead).name, "Ruiz SL");
  EXPECT_EQ(CustomerFromLead(lead).kind, CustomerKind::kCompany);
}

}  // namespace
}  // namespace leadledger::domain
