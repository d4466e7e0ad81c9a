"""Small widgets shared by panels (the thumbnail grid)."""
