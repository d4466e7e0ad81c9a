"""The latent space: its geometry (grids, paths, neighbours), maps (maps/), interpolation paths, selections,
the session the window shows, scoring (metrics, decodability, tradeoff), pictures of it (export, splat,
scatter_image, colours, replay), and what the window's worker threads run (worker_jobs)."""
