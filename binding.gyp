# node-gyp build of the addon. libtorch paths come from scripts/libtorch.js (LIBTORCH,
# Torch_DIR, then the project's .venv torch), the way sharp asks a script for libvips flags.
{
  "targets": [
    {
      "target_name": "videovae",
      "sources": [
        "cpp/addon.cc",
        "cpp/addon_state.cc",
        "cpp/aoti_package.cc",
        "cpp/buffer_leases.cc",
        "cpp/channels_last.cc",
        "cpp/dequantize.cc",
        "cpp/device.cc",
        "cpp/dtype.cc",
        "cpp/errors.cc",
        "cpp/host_allocator.cc",
        "cpp/ivalue_convert.cc",
        "cpp/job.cc",
        "cpp/job_control.cc",
        "cpp/memory.cc",
        "cpp/module.cc",
        "cpp/module_call_job.cc",
        "cpp/module_load_job.cc",
        "cpp/runtime_info.cc",
        "cpp/tensor.cc",
        "cpp/tensor_data_job.cc",
        "cpp/tensor_ops.cc",
        "cpp/tensor_to_job.cc",
        "cpp/transfers.cc",
        "cpp/vae_args.cc",
        "cpp/vae_decode_job.cc",
        "cpp/vae_encode_job.cc",
        "cpp/vae_reconstruct_job.cc",
        "cpp/warnings.cc",
        "cpp/pipeline/pipeline.cc",
        "cpp/pipeline/stages.cc",
        "cpp/pipeline/tiling.cc",
        "cpp/text/text_embed_job.cc",
        "cpp/text/text_encoder.cc",
        "cpp/text/tokenizer.cc",
        "cpp/text/tokenizer_handle.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "VIDEOVAE_BUILD_SYSTEM=\"node-gyp\"",
        "VIDEOVAE_TORCH_FLAVOUR=\"<!(node scripts/libtorch.js flavour)\"",
        "VIDEOVAE_TORCH_LIBDIR=\"<!(node scripts/libtorch.js libdir)\""
      ],
      # libtorch needs C++20, exceptions and RTTI; node-gyp defaults to none of them.
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": [
        "-std=c++20",
        "-fexceptions",
        "-frtti",
        "-Wno-unused-parameter",
        "<!@(node scripts/libtorch.js isystem)"
      ],
      # ldflags carry -rpath to libtorch's lib dir: the addon loads without LD_LIBRARY_PATH.
      "ldflags": ["<!@(node scripts/libtorch.js ldflags)"],
      "libraries": ["<!@(node scripts/libtorch.js libs)", "-ldl"]
    },
    {
      # The caption tokenizer's SentencePiece, in a library of its own that the addon dlopens
      # (RTLD_LOCAL): libsentencepiece and libtorch's libc10 clash on a global symbol
      # (cpp/spm/spm_bridge.h). scripts/sentencepiece.js says what to install when missing.
      "target_name": "videovae_spm",
      # Not a .node file: node-gyp-build takes the first *.node in build/Release as the addon.
      "target_conditions": [["_type=='loadable_module'", {"product_extension": "so"}]],
      "sources": ["cpp/spm/spm_bridge.cc"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "<!@(node scripts/sentencepiece.js cflags)"],
      "libraries": ["<!@(node scripts/sentencepiece.js libs)"]
    }
  ]
}
