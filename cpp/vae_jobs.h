// The encode and decode jobs of the VideoVAE+ pipeline (cpp/pipeline): one AsyncWorker per
// call runs every chunk and tile, with progress and cancellation.
#pragma once

#include <napi.h>

namespace videovae {

void RegisterVaeEncode(Napi::Env env, Napi::Object exports);  // vaeEncode (vae_encode_job.cc)
void RegisterVaeDecode(Napi::Env env, Napi::Object exports);  // vaeDecode (vae_decode_job.cc)
void RegisterVaeReconstruct(Napi::Env env, Napi::Object exports);  // vaeReconstruct (vae_reconstruct_job.cc)

}  // namespace videovae
