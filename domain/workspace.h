// Workspace settings (SPEC §2 and the configurable parts of §3-§7) as plain
// values. Commands carry the settings in force, so decisions stay pure.
#ifndef LEADLEDGER_DOMAIN_WORKSPACE_H_
#define LEADLEDGER_DOMAIN_WORKSPACE_H_

#include <string>
#include <vector>

namespace leadledger::domain {

struct WorkspaceSettings {
  // With leads enabled new records start as leads; otherwise as
  // opportunities (SPEC §2).
  bool leads_enabled = true;
  // The opportunity pipeline, in order; never empty.
  std::vector<std::string> pipeline_stages = {"New", "Qualified", "Proposition",
                                              "Won"};

  bool operator==(const WorkspaceSettings&) const = default;
};

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_WORKSPACE_H_
