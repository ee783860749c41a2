"""The shared kernel: users and roles, the one timeline, ids, phones, API plumbing."""
