"""The engine: models (models/), running them on images and codes (coding), training (training, jitter,
distributed, ladder), checkpoints (checkpoint, rescue, trained, timeline) and the user's own model code
(user_code). It knows nothing of maps or windows."""
