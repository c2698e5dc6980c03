"""What a finished run writes beside its adapter: the fitness plot and the summary tables."""
