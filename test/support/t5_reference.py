"""Reference outputs for the Node caption tests, computed with Hugging Face transformers (the
reference tokenizer and T5EncoderModel) and our eager PyTorch VAE:

    python t5_reference.py tokenize T5_DIR CAPTIONS.json            -> JSON {ids, mask} on stdout
    python t5_reference.py embed T5_DIR CAPTIONS.json OUT.safetensors
    python t5_reference.py vae T5_DIR CAPTIONS.json CKPT IN.safetensors OUT.safetensors

Captions are used as given (the Node side passes them already cleaned). Embeddings are float32
with eager attention; `vae` encodes IN's `video` with the captions' embeddings (posterior mode)
and decodes the latent, like VideoVAE.encode/decode with `caption`.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
torch.set_num_threads(2)


def tokens(t5_dir, captions):
    from transformers import T5Tokenizer
    tok = T5Tokenizer.from_pretrained(t5_dir)
    enc = tok(captions, max_length=100, padding="max_length", truncation=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def embed(t5_dir, captions):
    from transformers import T5EncoderModel
    ids, mask = tokens(t5_dir, captions)
    model = T5EncoderModel.from_pretrained(t5_dir, attn_implementation="eager").eval()
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).last_hidden_state, mask.float()


def main():
    from safetensors.torch import load_file, save_file
    mode, t5_dir, captions_file = sys.argv[1:4]
    with open(captions_file, encoding="utf-8") as fh:
        captions = json.load(fh)
    if mode == "tokenize":
        ids, mask = tokens(t5_dir, captions)
        print(json.dumps({"ids": ids.tolist(), "mask": mask.tolist()}))
    elif mode == "embed":
        emb, mask = embed(t5_dir, captions)
        save_file({"text_emb": emb.contiguous(), "text_mask": mask.contiguous()}, sys.argv[4])
    elif mode == "vae":
        from videovae.checkpoint import load_model
        ckpt, inp, out = sys.argv[4:7]
        model = load_model(ckpt)[0].eval()
        video = load_file(inp)["video"]
        emb, mask = embed(t5_dir, captions)
        with torch.no_grad():
            latent = model.encode(video, emb, mask)[0]
            recon = model.decode(latent, emb, mask)
        save_file({"latent": latent.contiguous(), "recon": recon.contiguous(), "text_emb": emb.contiguous()}, out)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
