"""evosweep: evolve LoRA adapters of a frozen causal LM, as tracked sweeps."""

__version__ = "0.1.0"
