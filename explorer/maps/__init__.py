"""Maps of a latent space: the exact PCA plane (explorer.latent.Plane) and decodable UMAP and t-SNE maps."""

from explorer.maps.learned import LearnedMap, build, default_cache_dir
from explorer.maps.projection import METHODS, NAMES

__all__ = ["LearnedMap", "build", "default_cache_dir", "METHODS", "NAMES"]
