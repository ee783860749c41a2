"""Calling agents, business hours and calls. Filled by the calling issue."""
