// libtorch warnings (TORCH_WARN) go to stderr once per distinct message, as Python's
// warnings filter does; the default C++ handler would repeat them on every call (NNPACK on
// unsupported CPUs warns on every convolution).
#pragma once

namespace videovae {

void InstallWarningHandler();

}  // namespace videovae
