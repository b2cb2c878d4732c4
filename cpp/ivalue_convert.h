// Arguments and results of TorchScript calls. Arguments are converted on the JS thread,
// guided by the method's schema (so 2 becomes a float where the method wants a float, and a
// JS array becomes List[Tensor] or a tuple as declared); results come back as handles,
// arrays (lists and tuples), numbers, booleans, strings, null and plain objects (dicts).
#pragma once

#include <ATen/core/ivalue.h>
#include <ATen/core/jit_type.h>
#include <napi.h>

#include <string>

namespace videovae {

struct ArgumentContext {
  c10::Device device;  // every tensor argument must live here (the module's device)
  std::string where;   // e.g. "argument 'x' of forward()", for error messages
};

c10::IValue ToIValue(const Napi::Value& value, const c10::TypePtr& type, const ArgumentContext& context);
Napi::Value FromIValue(Napi::Env env, const c10::IValue& value);

}  // namespace videovae
