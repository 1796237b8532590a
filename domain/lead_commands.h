// Commands on a lead: imperative requests that Decide turns into events or
// refuses. Time, ids and the settings in force arrive inside the command.
#ifndef LEADLEDGER_DOMAIN_LEAD_COMMANDS_H_
#define LEADLEDGER_DOMAIN_LEAD_COMMANDS_H_

#include <string>
#include <variant>

#include "absl/time/time.h"
#include "domain/lead.h"
#include "domain/workspace.h"

namespace leadledger::domain {

// Create a lead with the id chosen by the caller.
struct CreateLead {
  std::string lead_id;
  LeadProfile profile;
  WorkspaceSettings settings;
  absl::Time now;
};

using LeadCommand = std::variant<CreateLead>;

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_LEAD_COMMANDS_H_
