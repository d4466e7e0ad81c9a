"""The data: MNIST-like datasets (datasets), the user's .npz files and image folders (user_files), the
checks every array a user hands over passes (arrays), and the limits on them (limits)."""
