#include "addon_state.h"

#include "buffer_leases.h"

namespace videovae {

AddonState& StateOf(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

void InitAddonState(Napi::Env env) {
  auto* state = new AddonState();
  state->leases = BufferLeases::Create(env);
  env.SetInstanceData(state);  // deleted by Node-API when the environment shuts down
}

}  // namespace videovae
