"""Contact and company writes (create, link, merge, convert). Filled by the contacts issue."""
