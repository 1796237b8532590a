// SortPositionsByKey: sorts many byte-string keys with far fewer cache
// misses than std::sort with a string comparison.
//
// A bulk commit sorts hundreds of thousands of keys that share long prefixes
// ("i/LA/text/..."). Comparing two of them reads both strings from wherever
// they were allocated, over and over. Here each key is instead cut into
// 7-byte digits: a pass sorts fixed-size (digit, position) pairs, and only
// the runs whose digits tie are sorted again by their next digit, so each
// key's bytes are read about once per digit rather than once per comparison.
#ifndef LEADLEDGER_PROJECTIONS_KEY_SORT_H_
#define LEADLEDGER_PROJECTIONS_KEY_SORT_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace leadledger::projections {

// Sorts `positions`, indices into `keys`, into ascending bytewise order of
// their keys (as RocksDB's bytewise comparator orders them); equal keys keep
// ascending positions. Each position must be below keys.size().
void SortPositionsByKey(absl::Span<const absl::string_view> keys,
                        absl::Span<uint32_t> positions);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_KEY_SORT_H_
