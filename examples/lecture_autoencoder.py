"""The lecture's notebook as a script: a user-defined 784-512-2 autoencoder, trained on MNIST the usual
tutorial way, then explored live with one line.

    python examples/lecture_autoencoder.py                      # train 20 epochs, open the window
    python examples/lecture_autoencoder.py --epochs 2 --data-dir ../shared/data
    python examples/lecture_autoencoder.py --no-window --out runs/lecture   # codes + decoded grid, no display

Everything up to `explore` is the notebook's own code; nothing in it knows about the explorer.
"""

import argparse
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn


device = "cuda" if torch.cuda.is_available() else "cpu"


class Encoder(nn.Module):
    def __init__(self, latent_dims):
        super().__init__()
        self.linear1 = nn.Linear(784, 512)
        self.linear2 = nn.Linear(512, latent_dims)

    def forward(self, x):
        x = torch.flatten(x, start_dim=1)
        x = F.relu(self.linear1(x))
        return self.linear2(x)


class Decoder(nn.Module):
    def __init__(self, latent_dims):
        super().__init__()
        self.linear1 = nn.Linear(latent_dims, 512)
        self.linear2 = nn.Linear(512, 784)

    def forward(self, z):
        z = F.relu(self.linear1(z))
        z = torch.sigmoid(self.linear2(z))
        return z.reshape((-1, 1, 28, 28))


class Autoencoder(nn.Module):
    def __init__(self, latent_dims):
        super().__init__()
        self.encoder = Encoder(latent_dims)
        self.decoder = Decoder(latent_dims)

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z)


def train(autoencoder, data, epochs=20):
    opt = torch.optim.Adam(autoencoder.parameters())
    for epoch in range(epochs):
        for x, y in data:
            x = x.to(device)  # GPU
            opt.zero_grad()
            x_hat = autoencoder(x)
            loss = ((x - x_hat) ** 2).sum()
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.1f}")
    return autoencoder


def explore(autoencoder, images, labels, window: bool, out: Path):
    import explorer

    if not window:  # no display: the same window, offscreen, read from the script
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ex = explorer.view(autoencoder, images, labels)  # the notebook's plot_latent(autoencoder, data), live
    if window:
        explorer.run()  # in a script: until the window closes (in a notebook it returns at once)
        return
    ex.wait()
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "codes.npz", z=ex.codes, labels=ex.labels, uv=ex.positions)
    save_grid(ex, 12, out / "grid.png")
    print(f"{ex.description}\nwrote {out / 'codes.npz'} and {out / 'grid.png'} (the lecture's decoded grid)")
    ex.close()


def save_grid(ex, n: int, path: Path, scale: int = 2):
    """The lecture's n x n grid of decodes over the map's data range, each decoded as a click decodes it."""
    from PIL import Image

    (x0, y0), (x1, y1) = np.percentile(ex.positions, [1, 99], axis=0)
    rows = []
    for y in np.linspace(y1, y0, n):  # top row first
        row = []
        for x in np.linspace(x0, x1, n):
            ex.cursor = (float(x), float(y))
            ex.wait()
            row.append(ex.decoded)
        rows.append(np.concatenate(row, axis=1))
    grid = np.concatenate(rows, axis=0)
    Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST).save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("EXPLORER_DATA_DIR", "./data"),
                        help="torchvision root holding MNIST/raw (downloaded there if missing)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--train-images", type=int, help="train on only the first N images (a quick run)")
    parser.add_argument("--no-window", action="store_true", help="write codes and a decoded grid instead")
    parser.add_argument("--out", type=Path, default=Path("lecture-autoencoder"), help="where --no-window writes")
    args = parser.parse_args()

    torch.manual_seed(0)
    download = os.environ.get("EXPLORER_NO_DOWNLOAD", "") in ("", "0")
    to_tensor = torchvision.transforms.ToTensor()
    train_set = torchvision.datasets.MNIST(args.data_dir, train=True, transform=to_tensor, download=download)
    if args.train_images:
        train_set = torch.utils.data.Subset(train_set, range(args.train_images))
    data = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True)

    autoencoder = Autoencoder(latent_dims=2).to(device)
    autoencoder = train(autoencoder, data, args.epochs)

    test_set = torchvision.datasets.MNIST(args.data_dir, train=False, download=download)
    explore(autoencoder, test_set.data, test_set.targets, window=not args.no_window, out=args.out)


if __name__ == "__main__":
    main()
