#include "dtype.h"

#include "errors.h"

namespace videovae {
namespace {

struct DtypeEntry {
  const char* name;
  c10::ScalarType scalar;
  napi_typedarray_type array;
};

constexpr DtypeEntry kDtypes[] = {
    {"float32", c10::ScalarType::Float, napi_float32_array},
    {"float64", c10::ScalarType::Double, napi_float64_array},
    {"float16", c10::ScalarType::Half, napi_uint16_array},
    {"bfloat16", c10::ScalarType::BFloat16, napi_uint16_array},
    {"uint8", c10::ScalarType::Byte, napi_uint8_array},
    {"int8", c10::ScalarType::Char, napi_int8_array},
    {"int16", c10::ScalarType::Short, napi_int16_array},
    {"int32", c10::ScalarType::Int, napi_int32_array},
    {"int64", c10::ScalarType::Long, napi_bigint64_array},
    {"bool", c10::ScalarType::Bool, napi_uint8_array},
};

const DtypeEntry& EntryFor(c10::ScalarType type) {
  for (const auto& entry : kDtypes) {
    if (entry.scalar == type) return entry;
  }
  throw CodedError(code::kDtype, std::string("unsupported tensor dtype ") + c10::toString(type));
}

}  // namespace

c10::ScalarType ParseDtype(const std::string& name) {
  for (const auto& entry : kDtypes) {
    if (name == entry.name) return entry.scalar;
  }
  throw CodedError(code::kDtype, "unknown dtype '" + name + "'");
}

const char* DtypeName(c10::ScalarType type) { return EntryFor(type).name; }

napi_typedarray_type TypedArrayTypeFor(c10::ScalarType type) { return EntryFor(type).array; }

bool TypedArrayCarries(napi_typedarray_type array, c10::ScalarType type) {
  napi_typedarray_type expected = EntryFor(type).array;
  // Uint8ClampedArray holds the same bytes as Uint8Array.
  return array == expected || (expected == napi_uint8_array && array == napi_uint8_clamped_array);
}

}  // namespace videovae
