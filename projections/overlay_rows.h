// OverlayRows: a RowBatch that keeps a fold's writes in memory, in key order,
// and shows them to its reads, over the RowBatch of a commit. A fold that
// reads back what it wrote in the same commit keeps that promise through an
// overlay and may then be folded in bulk (ProjectionSpec::bulk), where the
// commit's own RowBatch does not show its writes.
//
// Not thread-safe; used by one projection instance for one commit at a time.
#ifndef LEADLEDGER_PROJECTIONS_OVERLAY_ROWS_H_
#define LEADLEDGER_PROJECTIONS_OVERLAY_ROWS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "projections/projection.h"

namespace leadledger::projections {

class OverlayRows final : public RowBatch {
 public:
  // Reads and writes go through `base` until Apply.
  void Attach(RowBatch& base) { base_ = &base; }

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override;
  void Put(absl::string_view key, absl::string_view value) override;
  void Delete(absl::string_view key) override;
  void DeleteWrittenOnce(absl::string_view key) override;
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) override;

  // Writes what was written since the last Apply to the attached RowBatch,
  // in key order (each key once, with its last write), and forgets it.
  void Apply();

 private:
  RowBatch* base_ = nullptr;
  struct Write {
    // nullopt for a deletion.
    std::optional<std::string> value;
    // A deletion by DeleteWrittenOnce.
    bool written_once = false;
    // A put over a deletion of the key written here before it.
    bool after_deletion = false;
  };
  absl::btree_map<std::string, Write, std::less<>> writes_;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_OVERLAY_ROWS_H_
