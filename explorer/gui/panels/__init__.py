"""The docks around the map: each takes the view state (and what else it uses) in its constructor."""
