"""Tasks, follow-up processes and notifications. Filled by the tasks issue."""
