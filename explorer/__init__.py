"""Latent Explorer: explore the latent spaces of generative models trained on MNIST."""

__version__ = "0.1.0"
