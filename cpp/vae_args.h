// JS-thread parsing of the arguments shared by the encode and decode jobs: the four stage
// modules of a bundle, optional text conditioning, tile options. Everything is validated
// here, before a job starts (sharp's baton style), and throws coded errors.
#pragma once

#include <c10/core/Device.h>
#include <napi.h>

#include "pipeline/pipeline.h"

namespace videovae {

struct StagesOnDevice {
  VaeStages stages;
  c10::Device device{c10::kCPU};
};

// [spatialEncoder, temporalEncoder, temporalDecoder, spatialDecoder] module handles, all on
// one device.
StagesOnDevice UnwrapStages(const Napi::Value& value);

// { embedding?: Tensor, mask?: Tensor } or null; tensors are moved to `device` in the job.
TextInputs UnwrapText(const Napi::Value& value);

TileOptions ParseTile(const Napi::Object& options);

// The bundle's compression factors, { compressionT, compressionH, compressionW } (TS passes them
// from the manifest); missing ones stay 0, which the pipeline asserts against.
Compression ParseCompression(const Napi::Object& options);

int64_t GetInt(const Napi::Object& options, const char* key, int64_t fallback);
bool GetBool(const Napi::Object& options, const char* key, bool fallback);

// The text tensors and a tensor moved to the stages' device (worker thread).
TextInputs TextOnDevice(const TextInputs& text, const c10::Device& device);

}  // namespace videovae
