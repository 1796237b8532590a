#include "projections/lead_event_types.h"

#include <cstddef>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_set.h"
#include "projections/event_codec.h"

namespace leadledger::projections {
namespace {

// The names come from the codec itself, by encoding a default value of each
// alternative: a renamed or added event type cannot drift from this list.
template <size_t... I>
absl::flat_hash_set<std::string> LeadTypes(std::index_sequence<I...>) {
  absl::flat_hash_set<std::string> types;
  (types.insert(
       EncodeLeadEvent(domain::LeadEvent(
                           std::variant_alternative_t<I, domain::LeadEvent>{}),
                       "")
           .type),
   ...);
  return types;
}

const absl::flat_hash_set<std::string>& AllLeadTypes() {
  static const auto* const types =
      new absl::flat_hash_set<std::string>(LeadTypes(
          std::make_index_sequence<std::variant_size_v<domain::LeadEvent>>()));
  return *types;
}

}  // namespace

bool IsLeadEventType(absl::string_view type) {
  return AllLeadTypes().contains(type);
}

template <typename Event>
const std::string& LeadEventType() {
  static const auto* const type =
      new std::string(EncodeLeadEvent(domain::LeadEvent(Event{}), "").type);
  return *type;
}

// The alternatives the read models ask for by name.
template const std::string& LeadEventType<domain::LeadCreated>();
template const std::string& LeadEventType<domain::LeadUpdated>();
template const std::string& LeadEventType<domain::CustomerLinked>();
template const std::string& LeadEventType<domain::LeadsMerged>();
template const std::string& LeadEventType<domain::LeadMergedInto>();
template const std::string& LeadEventType<domain::LeadLost>();
template const std::string& LeadEventType<domain::LeadRestored>();
template const std::string& LeadEventType<domain::LeadWon>();

const std::string& CustomerCreatedType() {
  static const auto* const type =
      new std::string(EncodeCustomerEvent(domain::CustomerCreated{}, "").type);
  return *type;
}

}  // namespace leadledger::projections
