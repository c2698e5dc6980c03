"""The frozen base model: loaded from a hub id, a folder, a GGUF file in a package,
or built in code (tiny test models)."""
