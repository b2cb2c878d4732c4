#include "runtime_info.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <dlfcn.h>
#include <torch/version.h>

#include <regex>

#include "aoti_package.h"
#include "errors.h"

// Set by binding.gyp / CMakeLists.txt from scripts/libtorch.js.
#ifndef VIDEOVAE_TORCH_FLAVOUR
#define VIDEOVAE_TORCH_FLAVOUR "unknown"
#endif
#ifndef VIDEOVAE_TORCH_LIBDIR
#define VIDEOVAE_TORCH_LIBDIR ""
#endif
#ifndef VIDEOVAE_BUILD_SYSTEM
#define VIDEOVAE_BUILD_SYSTEM "unknown"
#endif

// Embedded as plain text so lib/ can read it from the .node file *before* loading it:
// a missing or mismatched libtorch is then reported in words, not as a dlopen failure.
extern "C" __attribute__((used)) const char videovae_build_info[] =
    "VIDEOVAE_BUILD_INFO{\"torchVersion\":\"" TORCH_VERSION "\",\"flavour\":\"" VIDEOVAE_TORCH_FLAVOUR
    "\",\"libdir\":\"" VIDEOVAE_TORCH_LIBDIR "\",\"buildSystem\":\"" VIDEOVAE_BUILD_SYSTEM "\"}";

namespace videovae {
namespace {

std::string ConfigValue(const std::string& config, const std::string& key) {
  std::smatch m;
  std::regex pattern(key + "=([^,\\s]*)");
  return std::regex_search(config, m, pattern) ? m[1].str() : "";
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("torchVersion", TORCH_VERSION);
    out.Set("flavour", VIDEOVAE_TORCH_FLAVOUR);
    out.Set("libdir", VIDEOVAE_TORCH_LIBDIR);
    out.Set("buildSystem", VIDEOVAE_BUILD_SYSTEM);
    out.Set("marker", videovae_build_info);
    return out;
  });
}

// Facts about the libtorch the dynamic linker actually loaded.
Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    std::string config = at::show_config();
    Napi::Object out = Napi::Object::New(env);
    out.Set("torchVersion", ConfigValue(config, "TORCH_VERSION"));
    out.Set("cudaCompiled", ConfigValue(config, "USE_CUDA") == "1" || ConfigValue(config, "USE_CUDA") == "ON");
    Dl_info where{};
    if (dladdr(reinterpret_cast<void*>(&at::show_config), &where) != 0 && where.dli_fname != nullptr) {
      out.Set("library", where.dli_fname);
    }
    // What AOTInductor CPU kernels this process can run (checked against a package's ISA).
    std::vector<std::string> isa = SupportedCpuIsa();
    Napi::Array cpu_isa = Napi::Array::New(env, isa.size());
    for (size_t i = 0; i < isa.size(); ++i) cpu_isa.Set(static_cast<uint32_t>(i), isa[i]);
    out.Set("cpuIsa", cpu_isa);
    return out;
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    // Jobs call at::init_num_threads() first, so the setting reaches the worker threads too.
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::Number::New(info.Env(), at::get_num_threads()); });
}

}  // namespace

void RegisterRuntimeInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
}

}  // namespace videovae
