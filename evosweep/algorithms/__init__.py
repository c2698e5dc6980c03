"""Search algorithms over the ``(P, D)`` population: ask() -> members; tell(fitness).

GA and ES never see the model, the reward or the tracker: they get fitness
values and hand back tensors. ``pg`` and ``hybrid`` also train an adapter by
policy gradient (``grpo.py``), and ``sft`` by supervised tuning, through the
model (given to them in the AlgorithmContext).
Every algorithm's whole state fits in ``state_dict()``, and none imports the
tracker: ``tell()`` returns extra metrics, ``step_metrics()`` per-RL-step ones.
"""
