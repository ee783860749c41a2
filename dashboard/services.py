"""KPI and chart queries. Filled by the dashboard issue."""
