"""The latent map: the plot, its point cloud, the tools drawn on it, and the layers over it."""
