#!/usr/bin/env python3
"""llama.cpp reference numbers for examples/bench.rs (bench only, never a
runtime dependency). Same prompt, same 128 greedy tokens, best of 3:
decode tok/s, generate time, and verification by one prefill pass, both
with the last row's logits only and with all logits (what verification
needs). Also reports whether llama.cpp's batched argmax agrees with its own
decode (it need not: its kernels are not batch-invariant).

Setup: your own venv, apart from the project's .venv (which holds only the
GGUF and NVRTC); pip builds llama.cpp from source, ~5-15 min on 2 cores:
    python3 -m venv ~/llama-venv
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
      -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF" \
      ~/llama-venv/bin/pip install --no-binary llama-cpp-python llama-cpp-python==0.3.16 numpy
Run:
    ~/llama-venv/bin/python scripts/bench-llama-cpp.py <model.gguf> [1,2] [--tokens N] [--repeats R]
        [--prefill-ids 1,2,3] [--json]
With --json, each thread count prints one JSON object per line (and nothing
else goes to stdout): {"threads", "prompt_tokens", "answer_tokens",
"decode_tok_s", "generate_ms", "verify_last_ms", "verify_all_ms",
"batch_argmax_agrees", "prefill_tok_s"}; examples/bench.rs --llama-cpp reads
these. --prefill-ids gives the token ids of the prefill figure (one batched
pass, best of R; the bench passes its own prefill prompt's ids).

Accuracy mode (examples/bench.rs, for its accuracy table):
    python scripts/bench-llama-cpp.py --logits <ids.json> <out.f32> <model.gguf> [threads]
evaluates the ids (a JSON list) in one batched pass with all logits and
writes them, [len(ids)][n_vocab] little-endian f32, to out.f32.
"""
import json, llama_cpp, sys, time, numpy as np
args=sys.argv[1:]
if args[:1]==["--logits"]:
    ids=json.load(open(args[1])); out_path=args[2]; threads=int(args[4]) if len(args)>4 else 2
    m=llama_cpp.Llama(model_path=args[3], n_ctx=max(512, len(ids)), n_threads=threads, n_threads_batch=threads,
                      n_batch=max(512, len(ids)), logits_all=True, verbose=False)
    m.reset(); m.eval(ids)
    np.asarray(m.scores[:len(ids)], dtype="<f4").tofile(out_path)
    sys.exit(0)
def flag(name, default):
    if name in args:
        i=args.index(name); v=args[i+1]; del args[i:i+2]; return v
    return default
as_json="--json" in args
if as_json: args.remove("--json")
n_answer=int(flag("--tokens", "128"))
repeats=int(flag("--repeats", "3"))
prefill_ids=[int(t) for t in flag("--prefill-ids", "").split(",") if t]
path=args[0]
q="<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n"
def last_logits(m):
    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(m.ctx, -1), shape=(m.n_vocab(),))
for threads in [int(t) for t in (args[1] if len(args)>1 else "1,2").split(",")]:
    m=llama_cpp.Llama(model_path=path, n_ctx=512, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False)
    toks=m.tokenize((q%"What is the capital of France?").encode(), add_bos=False, special=True)
    m.reset(); m.eval(toks)
    out=[]
    for _ in range(8):
        t=int(last_logits(m).argmax()); out.append(t)
        if t==2: break
        m.eval([t])
    if threads==1 and not as_json: print("llama.cpp greedy:", out, repr(m.detokenize(out).decode(errors='replace')))
    best_pre=1e9
    for rep in range(repeats if prefill_ids else 0):
        m.reset(); t0=time.perf_counter(); m.eval(prefill_ids); best_pre=min(best_pre, time.perf_counter()-t0)
    prefill_tok_s=len(prefill_ids)/best_pre if prefill_ids else None
    if prefill_ids and not as_json: print(f"llama.cpp {threads}T: prefill {prefill_tok_s:.1f} tok/s ({len(prefill_ids)} tokens)")
    chat=m.tokenize((q%"Write a short story about a lighthouse keeper.").encode(), add_bos=False, special=True)
    best_gen=best_dec=best_ver=1e9
    for rep in range(repeats):
        m.reset()
        t0=time.perf_counter(); m.eval(chat); t1=time.perf_counter()
        ans=[]
        for i in range(n_answer):
            t=int(last_logits(m).argmax()); ans.append(t)
            if i<n_answer-1: m.eval([t])
        t2=time.perf_counter()
        best_gen=min(best_gen,t2-t0); best_dec=min(best_dec,t2-t1)
        m.reset()
        t3=time.perf_counter(); m.eval(chat+ans[:-1]); t4=time.perf_counter()
        best_ver=min(best_ver,t4-t3)
    if not as_json: print(f"llama.cpp {threads}T: decode {(n_answer-1)/best_dec:.1f} tok/s, generate {len(chat)}+{n_answer} {best_gen*1e3:.0f} ms, prefill-only verify {best_ver*1e3:.0f} ms => 1/{best_gen/best_ver:.1f}")
    del m
    m=llama_cpp.Llama(model_path=path, n_ctx=512, n_threads=threads, n_threads_batch=threads, n_batch=512, logits_all=True, verbose=False)
    best=1e9
    for rep in range(repeats):
        m.reset(); t3=time.perf_counter(); m.eval(chat+ans[:-1]); t4=time.perf_counter(); best=min(best,t4-t3)
    sc=m.scores[:m.n_tokens]
    ok=all(int(sc[len(chat)-1+i].argmax())==ans[i] for i in range(n_answer))
    if as_json:
        print(json.dumps({"threads": threads, "prompt_tokens": len(chat), "answer_tokens": n_answer,
                          "decode_tok_s": (n_answer-1)/best_dec, "generate_ms": best_gen*1e3,
                          "verify_last_ms": best_ver*1e3, "verify_all_ms": best*1e3,
                          "batch_argmax_agrees": ok, "prefill_tok_s": prefill_tok_s}), flush=True)
    else:
        print(f"llama.cpp {threads}T: verify with all logits {best*1e3:.0f} ms => 1/{best_gen/best:.1f} (argmax check {ok})")
    del m
