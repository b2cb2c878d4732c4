// Conv weights in the memory format fast bundles compute in. A fast export keeps its
// activations channels-last-3d; cuDNN then runs its convolutions channels-last and, with
// contiguous (NCDHW) weights, converts every weight on every call. Converting them once at load
// removes that copy. Exact bundles (contiguous activations) are left alone: a channels-last
// weight would make cuDNN switch their activations' layout conv by conv.
#pragma once

#include <c10/core/Device.h>
#include <napi.h>

#include <cstdint>

namespace torch::jit {
struct Module;
}

namespace videovae {

// True when a submodule carries a true `channels_last` / `channels_last_in` attribute: the
// flags python/videovae/fast.py sets on the modules of a fast export.
bool DeclaresChannelsLast(const torch::jit::Module& module);

// Every floating 5-D parameter (the Conv3d weights) to ChannelsLast3d; returns how many changed.
int64_t ConvWeightsToChannelsLast3d(torch::jit::Module& module);

// The load path's call: converts the weights of a channels-last module loaded on CUDA, nothing
// otherwise (on CPU oneDNN reorders weights itself and results stay bitwise as they were).
void PrepareConvWeights(torch::jit::Module& module, const c10::Device& device);

// debugModuleChannelsLast3d(handle, convert): test hook (see lib/native.ts).
void RegisterChannelsLast(Napi::Env env, Napi::Object exports);

}  // namespace videovae
