"""Tasks: (prompt, reference) pairs from bundled or user JSONL files, inline config
or a generator (countdown)."""
