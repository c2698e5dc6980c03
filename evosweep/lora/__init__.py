"""The population's LoRA weights: the flat (P, D) layout, peft import/export, batched multi-LoRA layers."""
