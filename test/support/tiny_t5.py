"""A tiny Flan-T5-style model in Hugging Face format, built offline for the tests:

    python test/support/tiny_t5.py OUT_DIR [--d-model 1024] [--layers 2] [--seq2seq] [--seed 0]

- spiece.model: a SentencePiece unigram model trained here on caption-like text written here
  (T5 layout: pad 0, eos 1, unk 2, no bos; nmt_nfkc normalisation, like the real one);
- config.json + model.safetensors: a random T5 v1.1 encoder (gated-GELU) with HF's own
  initialisation, few layers and heads and a small d_ff, vocab padded past the sentinels like
  flan-t5's 32128; --seq2seq saves a T5ForConditionalGeneration (decoder and LM head too).
"""
import argparse
import os
import random
import string
import tempfile

WORDS = ("a the an of in on at with and over under through across along into by from "
         "dog cat bird horse person man woman child group people crowd car bus train boat plane "
         "running walking flying swimming driving jumping dancing smiling talking sitting standing "
         "park street beach forest city mountain river ocean sky field road room kitchen garden "
         "red blue green yellow white black golden bright dark slow fast beautiful small large old "
         "camera pans zooms tilts shot close-up aerial view time-lapse footage video scene sunset "
         "sunrise night morning clouds rain snow light shadow water waves flowers trees grass").split()
EXTRA = ["café", "naïve", "résumé", "Zürich", "façade", "ﬁlm", "½", "①", "ｆｕｌｌ", "straße", "São", "Ωmega",
         "日本", "über", "Ä", "ø", "—", "“quoted”", "it's", "don't", "e.g.", "4k", "1080p", "60fps", "3d", "x264"]


def corpus(rng: random.Random, lines: int = 4000):
    junk = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 8))) for _ in range(400)]
    for _ in range(lines):
        words = [rng.choice(WORDS) if rng.random() < 0.7 else rng.choice(junk) for _ in range(rng.randint(3, 18))]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), rng.choice(EXTRA))
        if rng.random() < 0.2:
            words.append(str(rng.randint(0, 9999)))
        line = " ".join(words)
        yield (line.capitalize() + rng.choice([".", "!", ",", "", "?"])) if rng.random() < 0.5 else line


def train_spiece(out_dir: str, seed: int, vocab_size: int = 1000) -> int:
    import sentencepiece as spm
    rng = random.Random(seed)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write("\n".join(corpus(rng)))
        text = fh.name
    try:
        spm.SentencePieceTrainer.train(
            input=text, model_prefix=os.path.join(out_dir, "spiece"), vocab_size=vocab_size, model_type="unigram",
            pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
            character_coverage=0.9995, hard_vocab_limit=False, num_threads=1, minloglevel=2)
    finally:
        os.unlink(text)
    os.unlink(os.path.join(out_dir, "spiece.vocab"))
    return spm.SentencePieceProcessor(model_file=os.path.join(out_dir, "spiece.model")).get_piece_size()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--d-model", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-kv", type=int, default=16)
    ap.add_argument("--d-ff", type=int, default=64)
    ap.add_argument("--seq2seq", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch
    from transformers import T5Config, T5EncoderModel, T5ForConditionalGeneration

    os.makedirs(args.out, exist_ok=True)
    pieces = train_spiece(args.out, args.seed)
    config = T5Config(vocab_size=pieces + 128, d_model=args.d_model, d_kv=args.d_kv, d_ff=args.d_ff,
                      num_layers=args.layers, num_decoder_layers=1, num_heads=args.heads,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0)
    torch.manual_seed(args.seed)
    model = (T5ForConditionalGeneration if args.seq2seq else T5EncoderModel)(config)
    model.save_pretrained(args.out)


if __name__ == "__main__":
    main()
