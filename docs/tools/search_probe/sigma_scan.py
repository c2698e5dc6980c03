"""Idea 2: how big must B-only (or all-param) noise be to change greedy answers / log p?"""
import sys, time, torch
from probe.common import setup, b_mask, exact, norm
from probe.fastlik import FastLikelihood
task, loaded, layout, lora, lik, gen = setup(max_new_tokens=10)
g = torch.Generator().manual_seed(0)
m = layout.initial_member(g)
mask = b_mask(layout)
pairs = task.train[:16]
fl = FastLikelihood(lik, pairs)
base_lp = fl(m[None])[0]
base_ans = gen.generate(m[None], pairs)[0]
print("D_B", int(mask.sum()), "base lp", round(float(base_lp.mean()), 3))
K = 4
for where in ("B", "all"):
    for sigma in ([0.003, 0.01, 0.03, 0.1, 0.3] if where == "B" else [0.02, 0.1]):
        noise = torch.randn(K, layout.dim, generator=g) * sigma
        if where == "B":
            noise = noise * mask
        pop = m[None] + noise
        lp = fl(pop)
        ans = gen.generate(pop, pairs)
        changed = sum(a != b for row in ans for a, b in zip(row, base_ans)) / (K * len(pairs))
        first = sum(norm(a).split()[:1] != norm(b).split()[:1] for row in ans for a, b in zip(row, base_ans)) / (K * len(pairs))
        hits = sum(exact(a, p.reference) for row in ans for a, p in zip(row, pairs))
        d = (lp - base_lp)
        print(f"{where} sigma={sigma}: |dlogp| mean {float(d.abs().mean()):.3f} member-fitness std {float(lp.mean(1).std()):.3f} "
              f"dfit {[round(float(x),3) for x in d.mean(1)]} answer changed {changed:.2f} first-word changed {first:.2f} exact {hits}/{K*len(pairs)} "
              f"words {sum(len(a.split()) for row in ans for a in row)/(K*len(pairs)):.1f}", flush=True)
        print("   e.g.", ans[0][:4])
