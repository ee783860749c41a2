"""Meta sync and Lead Ads ingestion. Filled by the campaigns issue."""
