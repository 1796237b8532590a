#include "domain/customer.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "domain/overloaded.h"

namespace leadledger::domain {

CustomerProfile CustomerFromLead(const Lead& lead) {
  CustomerProfile customer;
  const LeadProfile& profile = lead.profile;
  if (!profile.company_name.empty()) {
    customer.kind = CustomerKind::kCompany;
    customer.name = profile.company_name;
  } else {
    customer.kind = CustomerKind::kPerson;
    customer.name = profile.contact_name.empty() ? profile.display_name
                                                 : profile.contact_name;
  }
  customer.email = profile.email;
  customer.email_normalized = lead.email_normalized;
  customer.phone = profile.phone.empty() ? profile.mobile : profile.phone;
  customer.address = profile.address;
  return customer;
}

absl::StatusOr<std::vector<CustomerEvent>> DecideCustomer(
    const Customer& state, const CustomerCommand& command) {
  return std::visit(
      Overloaded{[&](const CreateCustomer& create)
                     -> absl::StatusOr<std::vector<CustomerEvent>> {
        if (create.customer_id.empty()) {
          return absl::InvalidArgumentError("customer_id: must not be empty");
        }
        if (create.profile.name.empty()) {
          return absl::InvalidArgumentError("customer.name: must not be empty");
        }
        if (state.exists) {
          return absl::AlreadyExistsError(
              absl::StrCat("customer ", create.customer_id, " already exists"));
        }
        return std::vector<CustomerEvent>{
            CustomerCreated{.customer_id = create.customer_id,
                            .profile = create.profile,
                            .time = create.now}};
      }},
      command);
}

Customer EvolveCustomer(Customer state, const CustomerEvent& event) {
  std::visit(Overloaded{[&](const CustomerCreated& created) {
               state.exists = true;
               state.id = created.customer_id;
               state.profile = created.profile;
               state.create_time = created.time;
             }},
             event);
  return state;
}

}  // namespace leadledger::domain
