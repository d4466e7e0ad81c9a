"""A colour decoder: a tiny convolutional VAE on 32x32 RGB pictures this script draws itself (red, green
or blue discs and squares of random size near the centre), explored with one line.

    python examples/colour_vae.py                  # train, then open the window
    python examples/colour_vae.py --no-window --out runs/colour    # codes, a decoded grid and a GIF instead

The VAE's encode() returns (mu, logvar), its decoder returns logits (N, 3, 32, 32), and its labels are
class names: the explorer takes all three as they are.
"""

import argparse
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


COLOURS = {"red": (230, 60, 50), "green": (60, 200, 80), "blue": (70, 110, 240)}


def draw(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 pictures (n, 32, 32, 3), a disc or a square of one of three colours on a dark ground, and the
    colours. names as labels. Colour and shape vary the most, so a 2-d latent space can hold them."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    images = np.zeros((n, 32, 32, 3), np.uint8)
    names = np.array(list(COLOURS))[rng.integers(0, len(COLOURS), n)]
    for k in range(n):
        cy, cx = rng.uniform(15, 17, 2)
        r = rng.uniform(9, 12)
        if rng.random() < 0.5:
            mask = np.hypot(yy - cy, xx - cx) < r
        else:
            mask = (abs(yy - cy) < r * 0.8) & (abs(xx - cx) < r * 0.8)
        images[k][mask] = np.array(COLOURS[names[k]]) * rng.uniform(0.7, 1.0)
    return images, names


class VAE(nn.Module):
    def __init__(self, latent_dims=2):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Flatten())
        self.to_stats = nn.Linear(64 * 8 * 8, 2 * latent_dims)
        self.from_code = nn.Sequential(nn.Linear(latent_dims, 64 * 8 * 8), nn.ReLU(), nn.Unflatten(1, (64, 8, 8)))
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 3, 4, 2, 1))

    def encode(self, x):
        mu, logvar = self.to_stats(self.features(x)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return self.upsample(self.from_code(z))  # logits

    def loss(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = F.binary_cross_entropy_with_logits(self.decode(z), x, reduction="sum")
        kl = 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).sum()
        return (recon + kl) / len(x)


def train(vae, images, epochs):
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    opt = torch.optim.Adam(vae.parameters(), lr=2e-3)
    for epoch in range(epochs):
        # small batches, many steps: the 2-d code takes size and shape first and colour only after about
        # 500 steps (all decodes were still grey after 190 steps of 128 pictures)
        for batch in torch.randperm(len(x_all)).split(32):
            opt.zero_grad()
            loss = vae.loss(x_all[batch])
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.1f} nats per picture")
    return vae


def explore(vae, images, labels, window: bool, out: Path):
    import explorer

    if not window:  # no display: the same window, offscreen, read from the script
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ex = explorer.view(vae, images, labels)  # logits are found out from their range (or say output="logits")
    if window:
        explorer.run()
        return
    ex.wait()
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "codes.npz", z=ex.codes, labels=ex.labels, uv=ex.positions)
    (x0, y0), (x1, y1) = np.percentile(ex.positions, [1, 99], axis=0)
    grid = [[decode_at(ex, x, y) for x in np.linspace(x0, x1, 10)] for y in np.linspace(y1, y0, 10)]
    save_image(np.concatenate([np.concatenate(row, axis=1) for row in grid]), out / "grid.png", scale=2)
    walk = [decode_at(ex, x0 + t * (x1 - x0), y0 + t * (y1 - y0)) for t in np.linspace(0, 1, 16)]
    frames = [save_image(f, None, scale=4) for f in walk + walk[-2:0:-1]]  # there and back: a loop
    frames[0].save(out / "path.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    print(f"{ex.description}\nwrote {out / 'codes.npz'}, {out / 'grid.png'} and {out / 'path.gif'}")
    ex.close()


def decode_at(ex, x: float, y: float) -> np.ndarray:
    """The picture at map point (x, y), decoded as a click there decodes it."""
    ex.cursor = (float(x), float(y))
    ex.wait()
    return ex.decoded


def save_image(pixels: np.ndarray, path: Path | None, scale: int):
    from PIL import Image

    image = Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale), Image.NEAREST)
    if path is not None:
        image.save(path)
    return image


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000, help="how many pictures to draw and train on")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--no-window", action="store_true", help="write codes, a decoded grid and a GIF instead")
    parser.add_argument("--out", type=Path, default=Path("colour-vae"), help="where --no-window writes")
    args = parser.parse_args()

    torch.manual_seed(0)
    images, labels = draw(args.images)
    vae = train(VAE(), images, args.epochs)
    explore(vae, images, labels, window=not args.no_window, out=args.out)


if __name__ == "__main__":
    main()
