"""Windows and dialogs of their own: training, exports, the compare view."""
