// Fingerprints of appends, for telling a retry (same content) from a reuse of
// an idempotency key for other content. Not a cryptographic hash: it only
// compares appends made under one key by the same caller.
#ifndef LEADLEDGER_EVENTSTORE_FINGERPRINT_H_
#define LEADLEDGER_EVENTSTORE_FINGERPRINT_H_

#include <string>

#include "eventstore/event_store.h"

namespace leadledger::eventstore {

// Returns 16 bytes that depend on every stream name, expected version, event
// id, type, schema version and payload of `request`, in order; metadata and
// the idempotency fields are left out. Stable across builds and machines.
std::string FingerprintWrites(const AppendRequest& request);

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_FINGERPRINT_H_
