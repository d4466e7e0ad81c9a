"""Maps of a latent space: the exact PCA plane (explorer.engine.coding.Plane) and decodable UMAP and t-SNE maps."""

from explorer.latent.maps.learned import LearnedMap, build, default_cache_dir
from explorer.latent.maps.projection import METHODS, NAMES

__all__ = ["LearnedMap", "build", "default_cache_dir", "METHODS", "NAMES"]
