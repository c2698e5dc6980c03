"""Search algorithms over the ``(P, D)`` population: ask() -> members; tell(fitness).

An algorithm never sees the model, the reward or the tracker: it gets fitness
values and hands back tensors, and its whole state fits in ``state_dict()``.
"""
