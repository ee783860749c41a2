"""Dashboard rollups. Filled by the dashboard issue."""
