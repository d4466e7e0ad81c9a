"""Worker threads: they compute and emit signals, never touch widgets; one registry stops them all."""
