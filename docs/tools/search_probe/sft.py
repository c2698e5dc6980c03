"""Gradient ceiling: Adam on the flat LoRA vector through evosweep's BatchedLora (same
formatting, reference + EOS, mean token NLL), held-out exact after each step.
usage: python -m probe.sft LR STEPS PARAMS(B|all) [budget_s]"""
import sys, time, torch
from probe.common import setup, b_mask, report
from probe.fastlik import FastLikelihood

lr, steps, params = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
budget = float(sys.argv[4]) if len(sys.argv) > 4 else 1e9
task, loaded, layout, lora, lik, gen = setup(max_new_tokens=10)
ids, attention, is_target = lik._encode_targets(task.train)
model = loaded.model
g = torch.Generator().manual_seed(0)
init = layout.initial_member(g)
mask = b_mask(layout) if params == "B" else torch.ones(layout.dim, dtype=torch.bool)
theta = torch.nn.Parameter(init.clone())
opt = torch.optim.Adam([theta], lr=lr)
r = report(gen, init, task.heldout)
print(f"step 0 heldout exact {r['exact']} words {r['words']}", flush=True)
t = 0.0
for step in range(1, steps + 1):
    t0 = time.perf_counter()
    with lora.members(theta[None]):
        hidden = model.base_model(input_ids=ids, attention_mask=attention).last_hidden_state
        pred = is_target[:, 1:]
        logits = model.get_output_embeddings()(hidden[:, :-1][pred])
    lp = torch.log_softmax(logits.float(), -1).gather(1, ids[:, 1:][pred].unsqueeze(1)).squeeze(1)
    per = torch.zeros(pred.shape); per[pred] = lp
    loss = -(per.sum(1) / pred.sum(1)).mean()
    opt.zero_grad(); loss.backward()
    theta.grad *= mask
    opt.step()
    t += time.perf_counter() - t0
    r = report(gen, theta.detach(), task.heldout)
    print(f"step {step} t {t:.0f}s loss {loss.item():.3f} heldout exact {r['exact']} words {r['words']} {r['answers'][:8]}", flush=True)
    if t > budget:
        break
