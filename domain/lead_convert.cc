// Converting a lead into an opportunity (SPEC §4, action CONVERT).
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "domain/customer.h"
#include "domain/lead_decider.h"
#include "domain/lead_rules.h"
#include "domain/status_macros.h"

namespace leadledger::domain {

absl::StatusOr<ConversionDecision> DecideConversion(
    const Lead& lead, const ConvertLead& command,
    const ConversionContext& context) {
  RETURN_IF_ERROR(internal::RequireActive(lead, "convert"));
  if (lead.kind != LeadKind::kLead) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", lead.id, " is already an opportunity"));
  }
  if (command.settings.pipeline_stages.empty()) {
    return absl::FailedPreconditionError(
        "workspace pipeline has no stages; configure one first");
  }
  ConversionDecision decision;
  decision.lead_events.push_back(
      LeadConverted{.stage = command.settings.pipeline_stages.front(),
                    .owner_id = command.owner_id,
                    .team_id = command.team_id,
                    .time = command.now});

  // Which customer to link: the one named, a new one, none, or by default
  // the one with the lead's email, else a new one when the lead names a
  // person or company. A lead linked already keeps its customer by default.
  CustomerAction action = command.customer_action;
  const Customer* link = nullptr;
  if (action == CustomerAction::kDefault) {
    if (!lead.customer_id.empty()) {
      action = CustomerAction::kNone;
    } else if (context.email_match.has_value() && context.email_match->exists) {
      link = &*context.email_match;
    } else if (!lead.profile.contact_name.empty() ||
               !lead.profile.company_name.empty()) {
      action = CustomerAction::kCreateNew;
    } else {
      action = CustomerAction::kNone;
    }
  } else if (action == CustomerAction::kLinkExisting) {
    if (command.customer_id.empty()) {
      return internal::Invalid("customer_id",
                               "required to link an existing customer");
    }
    if (!context.linked_customer.exists ||
        context.linked_customer.id != command.customer_id) {
      return absl::NotFoundError(
          absl::StrCat("customer ", command.customer_id, " not found"));
    }
    link = &context.linked_customer;
  }

  if (action == CustomerAction::kCreateNew) {
    ASSIGN_OR_RETURN(
        decision.customer_events,
        DecideCustomer(Customer{},
                       CreateCustomer{.customer_id = command.new_customer_id,
                                      .profile = CustomerFromLead(lead),
                                      .now = command.now}));
    decision.created_customer_id = command.new_customer_id;
    decision.lead_events.push_back(CustomerLinked{
        .customer_id = command.new_customer_id, .time = command.now});
  } else if (link != nullptr && link->id != lead.customer_id) {
    decision.lead_events.push_back(
        CustomerLinked{.customer_id = link->id, .time = command.now});
  }
  return decision;
}

}  // namespace leadledger::domain
