// Customers (SPEC §1, §4): created on conversion, referenced by id from
// leads. Plain values and a pure decider.
#ifndef LEADLEDGER_DOMAIN_CUSTOMER_H_
#define LEADLEDGER_DOMAIN_CUSTOMER_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "domain/lead.h"

namespace leadledger::domain {

enum class CustomerKind { kCompany, kPerson };

struct CustomerProfile {
  CustomerKind kind = CustomerKind::kPerson;
  std::string name;
  std::string email;
  std::string email_normalized;
  std::string phone;
  PostalAddress address;

  bool operator==(const CustomerProfile&) const = default;
};

struct Customer {
  bool exists = false;
  std::string id;
  CustomerProfile profile;
  absl::Time create_time = absl::InfinitePast();

  bool operator==(const Customer&) const = default;
};

struct CustomerCreated {
  std::string customer_id;
  CustomerProfile profile;
  absl::Time time;

  bool operator==(const CustomerCreated&) const = default;
};

using CustomerEvent = std::variant<CustomerCreated>;

// Create a customer with the id chosen by the caller.
struct CreateCustomer {
  std::string customer_id;
  CustomerProfile profile;
  absl::Time now;
};

using CustomerCommand = std::variant<CreateCustomer>;

// The customer a lead's contact data describes: a company when the lead names
// one, else a person named by the contact (or, failing that, the lead's
// display name).
CustomerProfile CustomerFromLead(const Lead& lead);

// Errors: INVALID_ARGUMENT (empty id or name), ALREADY_EXISTS.
[[nodiscard]] absl::StatusOr<std::vector<CustomerEvent>> DecideCustomer(
    const Customer& state, const CustomerCommand& command);

[[nodiscard]] Customer EvolveCustomer(Customer state,
                                      const CustomerEvent& event);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_CUSTOMER_H_
