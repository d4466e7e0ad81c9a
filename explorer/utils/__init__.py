"""Utilities every layer uses: the one error type users see, counted nouns, atomic writes, signals as stop
requests, numbers from text, the version. They import nothing else of the explorer."""
