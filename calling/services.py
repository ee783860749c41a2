"""Call scheduling and outcome write-back. Filled by the calling issue."""
