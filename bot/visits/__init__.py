"""The OPCC visits protocol (seed 004): requests, their steps, and the sweep that chases them."""
