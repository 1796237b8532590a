#!/usr/bin/env bash
# Installs the Debian 12 packages LeadLedger needs to build, test and run.
#
# Idempotent and quick: when every package is already installed it only asks
# dpkg and exits. Runs as root, or through sudo when not root. Never prompts.
set -euo pipefail

packages=(
  # Toolchain and build.
  g++ cmake ninja-build make pkg-config clang-format
  # RPC: gRPC C++ (with reflection), protoc and its gRPC plugins.
  libgrpc++-dev libgrpc-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # Storage, base library, phone numbers.
  librocksdb-dev libabsl-dev libphonenumber-dev
  # The server's allocator (glibc malloc cost it a sixth of its CPU).
  libjemalloc-dev
  # Tests, coverage and benchmarks (valgrind counts the instructions of a
  # rebuild: bench/ab_rebuild_instructions.sh).
  libgtest-dev libgmock-dev libbenchmark-dev gcovr valgrind
  # End-to-end tests drive the server from Debian's Python gRPC.
  python3 python3-grpcio python3-protobuf
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "install-deps: not root and sudo is missing; install as root: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
