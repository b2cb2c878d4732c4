// The C interface of videovae_spm.so, the small library that holds SentencePiece.
//
// Why a separate library: libsentencepiece and libtorch's libc10 both export a global
// FLAGS_minloglevel of different types. Linked into one addon they share one symbol scope,
// and SentencePiece's flag constructor overwrites libc10 memory at load time (corrupting,
// e.g., a libc10 mutex). Loaded with dlopen(RTLD_LOCAL), the bridge and libsentencepiece get
// a scope of their own and each library keeps its own flag.
#pragma once

#include <cstddef>

extern "C" {

// A loaded model, or null with a message in `error`.
void* videovae_spm_load(const char* path, char* error, size_t error_size);
void videovae_spm_free(void* model);
int videovae_spm_piece_size(const void* model);
// 1 for control and unknown pieces (what Hugging Face registers as special tokens).
int videovae_spm_is_special(const void* model, int id);
// The piece's text, valid while the model lives.
const char* videovae_spm_piece(const void* model, int id, size_t* length);
// Encodes `text` into ids (at most `capacity`); returns the id count (which may exceed
// capacity: call again with more room), or -1 with a message in `error`.
int videovae_spm_encode(const void* model, const char* text, size_t length, int* ids, int capacity, char* error,
                        size_t error_size);
}
