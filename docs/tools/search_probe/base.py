"""Base model: held-out/train greedy answers and timings of the evaluator."""
import time, torch
from probe.common import setup, report, Timer
t = Timer()
task, loaded, layout, lora, lik, gen = setup()
print("load", round(t(), 1), "D", layout.dim, "train", len(task.train), "heldout", len(task.heldout))
g = torch.Generator().manual_seed(0)
m = layout.initial_member(g)
for name, pairs in (("heldout", task.heldout), ("train", task.train)):
    s = time.perf_counter(); r = report(gen, m, pairs); print(name, r["exact"], r["words"], round(time.perf_counter() - s, 1), "s"); print(r["answers"])
for P, N in ((1, 20), (8, 16), (16, 16), (32, 8), (64, 4)):
    pop = m[None].repeat(P, 1)
    s = time.perf_counter(); sc = lik.evaluate(pop, task.train[:N]).scores; dt = time.perf_counter() - s
    print(f"lik P={P} N={N} {dt:.2f}s {P*N/dt:.1f} evals/s mean {sc.mean():.3f}")
pop = m[None].repeat(8, 1)
s = time.perf_counter(); out = gen.generate(pop, task.train[:8]); dt = time.perf_counter() - s
print(f"gen P=8 N=8 {dt:.2f}s {64/dt:.1f} evals/s")
