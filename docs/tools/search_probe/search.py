"""ES / GA on the LoRA vector of SmolLM2, B-only or all params, time-budgeted.

usage: python -m probe.search '<json config>' ['<json config>' ...]   (model loaded once)
config keys: name, algo (es|ga), params (B|all), sigma, P, N (train prompts per gen),
  fresh (new minibatch each gen), pool (train pairs used, <=60), lr, opt (adam|sgd),
  reward (lik|margin|chrf|exact), budget_s (training seconds), eval_every (gens), seed,
  elite/top (ga), shaping (centered_rank|zscore)
Prints one JSON line per run (tag RESULT) with before/after held-out exact etc.
"""
import json, sys, time
import torch
from probe.common import setup, b_mask, report, exact, norm
from probe.fastlik import FastLikelihood
from evosweep.algorithms.shaping import shape_fitness

task, loaded, layout, lora, lik, gen = setup(max_new_tokens=10)
MASK = b_mask(layout)
TRAIN = task.train
HELD = task.heldout
FL = FastLikelihood(lik, TRAIN)

_chrf = None


def text_fitness(pop, idx, kind):
    global _chrf
    pairs = [TRAIN[i] for i in idx]
    texts = gen.generate(pop, pairs)
    if kind == "exact":
        s = [[float(exact(a, p.reference)) for a, p in zip(row, pairs)] for row in texts]
    else:
        if _chrf is None:
            from sacrebleu.metrics import CHRF
            _chrf = CHRF()
        s = [[_chrf.sentence_score(norm(a), [norm(p.reference)]).score / 100 for a, p in zip(row, pairs)] for row in texts]
    return torch.tensor(s)


FLM = FastLikelihood(lik, TRAIN, mode="margin")


def fitness(pop, idx, kind):
    if kind == "lik":
        return FL(pop, index=idx)
    if kind == "margin":
        return FLM(pop, index=idx)
    return text_fitness(pop, idx, kind)


def run(cfg):
    c = dict(algo="es", params="B", sigma=0.01, P=32, N=8, fresh=True, pool=60, lr=1e-3,
             opt="adam", reward="lik", budget_s=240, eval_every=5, seed=0, elite=2, top=8,
             shaping="centered_rank", name="")
    c.update(cfg)
    g = torch.Generator().manual_seed(c["seed"])
    torch.manual_seed(c["seed"])
    init = layout.initial_member(g)
    mask = MASK if c["params"] == "B" else torch.ones(layout.dim, dtype=torch.bool)
    pool = list(range(min(c["pool"], len(TRAIN))))
    before = report(gen, init, HELD)
    center = torch.nn.Parameter(init.clone())
    opt = (torch.optim.Adam if c["opt"] == "adam" else torch.optim.SGD)([center], lr=c["lr"], maximize=True)
    P, N = c["P"], c["N"]
    fixed = torch.tensor(pool[:N])
    ga_pop = init[None].repeat(P, 1) + c["sigma"] * torch.randn(P, layout.dim, generator=g) * mask
    ga_pop[0] = init
    best = init.clone()
    evals, gens, train_s = 0, 0, 0.0
    curve = []
    while train_s < c["budget_s"]:
        t0 = time.perf_counter()
        idx = torch.tensor(pool)[torch.randperm(len(pool), generator=g)[:N]] if c["fresh"] else fixed
        if c["algo"] == "es":
            K = P // 2
            eps = torch.randn(K, layout.dim, generator=g) * mask  # (K, D)
            theta = center.detach()
            pop = torch.stack([theta + s * c["sigma"] * e for e in eps for s in (1, -1)])
            f = fitness(pop, idx, c["reward"]).mean(1)
            w = shape_fitness(f, c["shaping"])
            w = w[0::2] - w[1::2]
            grad = (w[:, None] * eps).sum(0) / (P * c["sigma"])
            before_c = theta.clone()
            center.grad = grad
            opt.step()
            step = float((center.detach() - before_c).norm())
            best = center.detach().clone()
            fit_best, fit_mean = float(f.max()), float(f.mean())
        else:  # GA: elitism + truncation + uniform crossover + gaussian mutation on mask
            f = fitness(ga_pop, idx, c["reward"]).mean(1)
            order = torch.argsort(f, descending=True)
            best = ga_pop[order[0]].clone()
            parents = ga_pop[order[: c["top"]]]
            children = []
            for _ in range(P - c["elite"]):
                a, b = parents[torch.randint(len(parents), (2,), generator=g)]
                pick = torch.rand(layout.dim, generator=g) < 0.5
                child = torch.where(pick, a, b) + c["sigma"] * torch.randn(layout.dim, generator=g) * mask
                children.append(child)
            ga_pop = torch.cat([ga_pop[order[: c["elite"]]], torch.stack(children)])
            step = 0.0
            fit_best, fit_mean = float(f.max()), float(f.mean())
        evals += P * N
        gens += 1
        train_s += time.perf_counter() - t0
        if gens % c["eval_every"] == 0 or train_s >= c["budget_s"]:
            r = report(gen, best, HELD)
            curve.append((gens, round(train_s), evals, r["exact"], r["words"]))
            print(f"  [{c['name']}] gen {gens} t {train_s:.0f}s evals {evals} fit best {fit_best:.3f} mean {fit_mean:.3f} "
                  f"step {step:.3f} |B| {float((best*MASK).norm()):.2f} heldout exact {r['exact']} words {r['words']} {r['answers'][:6]}", flush=True)
    after = report(gen, best, HELD)
    trn = report(gen, best, TRAIN[:20])
    hl = float(FastLikelihood(lik, HELD)(best[None]).mean())
    res = dict(cfg=c, gens=gens, train_s=round(train_s), evals=evals, heldout_before=before["exact"],
               words_before=before["words"], heldout_after=after["exact"], words_after=after["words"],
               train20_exact=trn["exact"], heldout_loglik=round(hl, 3), curve=curve, answers=after["answers"])
    print("RESULT " + json.dumps(res), flush=True)
    torch.save(best, f"/tmp/probe_best_{c['name'] or 'run'}_{c['seed']}.pt")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        run(json.loads(arg))
