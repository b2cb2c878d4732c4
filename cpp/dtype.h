// The dtypes the package exposes, their torch scalar types and the typed arrays that carry them.
// float16/bfloat16 travel as raw bits in Uint16Array; bool as 0/1 bytes in Uint8Array.
#pragma once

#include <c10/core/ScalarType.h>
#include <napi.h>

#include <string>

namespace videovae {

c10::ScalarType ParseDtype(const std::string& name);  // throws ERR_DTYPE
const char* DtypeName(c10::ScalarType type);           // throws ERR_DTYPE for unsupported types
napi_typedarray_type TypedArrayTypeFor(c10::ScalarType type);
bool TypedArrayCarries(napi_typedarray_type array, c10::ScalarType type);

}  // namespace videovae
