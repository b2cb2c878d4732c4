// Per-environment state of the addon (one per Node.js main thread or worker thread).
#pragma once

#include <napi.h>

#include <memory>

namespace videovae {

class BufferLeases;

struct AddonState {
  // Releases ArrayBuffer references held by zero-copy tensors (see buffer_leases.h).
  std::shared_ptr<BufferLeases> leases;
  // Electron forbids external ArrayBuffers; data() then copies. Tests force it off too.
  bool external_buffers = true;
};

AddonState& StateOf(Napi::Env env);
void InitAddonState(Napi::Env env);

}  // namespace videovae
