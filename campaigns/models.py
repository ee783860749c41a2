"""Meta campaigns, daily insights and sync runs. Filled by the campaigns issue."""
