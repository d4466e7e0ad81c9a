"""What the data may be: the datasets by name and the sizes a user's images, labels and codes may have.

Here, where nothing imports torch, so that `explorer` alone (its parser, the window's first frame) starts
before torch loads (about a second).
"""

# Datasets by their torchvision class names
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST"}
MAX_LATENT_DIM = 512
MAX_CLASSES = 1000  # a checkpoint's metadata could otherwise ask for a model of any size
# The most bytes one array of the user's may take once read (an .npz member inflated, a folder's images
# stacked as uint8): 2 GiB is 2.7 million 28x28 grey images or 700,000 32x32 colour ones; checked from the
# declared sizes before anything is read, so a zip bomb or a lying .npy header costs nothing
MAX_DATA_BYTES = 2 << 30
MNIST_SHAPE = (1, 28, 28)
MIN_SIDE, MAX_SIDE = 8, 256  # image height and width the models and the window handle
