"""Task and process writes. Filled by the tasks issue."""
