"""RESULT lines of probe/logs/*.log -> markdown table rows."""
import glob, json
print("| run | r | params | algo | reward | sigma | P x N (fresh) | opt lr | seed | train s | gens | reward evals | held-out exact before -> after | words before -> after | train20 exact | held-out log p | curve (gen, s, evals, exact, words) | sample answers (first 8 held-out) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for f in sorted(glob.glob("probe/logs/*.log")):
    for line in open(f):
        if not line.startswith("RESULT "):
            continue
        r = json.loads(line[7:]); c = r["cfg"]; r_ = 1 if "r1" in c["name"] else 8
        ans = "; ".join(a.replace("\n", " ").replace("|", "/")[:28] for a in r["answers"][:8])
        print(f"| {c['name']} | {r_} | {c['params']} | {c['algo']} | {c['reward']} | {c['sigma']} | {c['P']}x{c['N']} ({'fresh' if c['fresh'] else 'fixed'}) | {c['opt']} {c['lr']} | {c['seed']} | {r['train_s']} | {r['gens']} | {r['evals']} | {r['heldout_before']} -> {r['heldout_after']} | {r['words_before']} -> {r['words_after']} | {r['train20_exact']} | {r['heldout_loglik']} | {' '.join(str(tuple(x)) for x in r['curve'])} | {ans} |")
